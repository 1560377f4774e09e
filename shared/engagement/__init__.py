"""Engagement: what people did with a notification's messages, counted once.

sent_index  each message sent, findable from its conversation (receipts, reactions)
store       reads, reactions and clicks on each target, counted once; callback events' rows
"""
