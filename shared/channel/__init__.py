"""The Bot Framework channel: authentication both ways, inbound turns, the outbound REST call.

auth              botbuilder authentication from the settings; the bot's cached outbound token
adapter           CloudAdapterBase with its middleware and turn error handler
typing_indicator  typing shown only while a turn is slow, stopped however it ends
service_urls      which serviceUrl hosts the app will store and send to
connector         the Bot Connector REST calls over one pooled HTTP session; ChannelError
error_codes       what each refusal means for the conversation: retry, remove, suspend or fail
"""
