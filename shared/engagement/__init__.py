"""Engagement: what people did with a notification's messages, and who hears of it.

sent_index  each message sent, findable from its conversation (receipts, reactions)
store       reads, reactions and clicks on each target, counted once; callback events' rows
callback    a notification's `callback`: its URL and events, and where the app may call
"""
