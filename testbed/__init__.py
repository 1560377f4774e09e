"""What the tests and the bench both stand the app on; never deployed (see .funcignore).

loopback_server   an aiohttp app served on 127.0.0.1 from a thread and event loop of its own
channel_stub      a loopback Bot Connector service: answers, records, and fails on cue
activities        inbound Bot Framework activities as a channel would POST them
reminder_phrases  what people type to set a reminder, and what the product should make of it
counting_proxy    a loopback reverse proxy that counts the requests a run makes of storage
otlp_collector    a loopback OTLP/HTTP receiver: the spans, metrics and logs a run exports
"""
