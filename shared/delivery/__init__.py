"""Delivery: one proactive message to many conversations, within the channel's limits.

outbound      the message and its wire JSON, addressed exactly as continue_conversation does
actions       what is done to each target: a message sent, or one sent before updated or recalled
fanout        bounded-concurrency fan-out over streamed targets
chat_opening  opening a person's 1:1 conversation, and keeping its reference and index rows
member_chats  team members' 1:1 conversations opened through the fan-out
not_found     a 404 "conversation not found": a 1:1 opened again, a shared chat counted
live_references whether a target was deleted since its fan-out read it, once a second
outcomes      each target's one outcome, and the report that adds them up
rate_limits   sliding-window limits per conversation and per tenant
tenant_budget each instance's share of a tenant's limits, and 429 pauses, across scale-out
retry_policy  which channel answers to retry, and how long to wait
clocks        the channel's one-second window, and how far instances' clocks may disagree
"""
