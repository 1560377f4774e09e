"""The bot in conversation: what it does with each inbound activity.

bot             the ActivityHandler: save and forget references, route replies
teams_events    Teams lifecycle event names and the ids they carry, read case-insensitively
welcome         the greeting (WELCOME_TEXT) said once per install
prompt_replies  replies taken as answers to a pending question
installed_chats  a person's chat stored under Graph's id when Teams' activities name it `a:…`
engagement_events  read receipts and reactions to notification messages, put on the queue
reminders/      reminders set, listed and cancelled in chat, in six languages
"""
