"""Delivery: one proactive message to many conversations, within the channel's limits.

outbound      the message and its wire JSON, addressed exactly as continue_conversation does
actions       what is done to each target: a message sent, or one sent before updated or recalled
fanout        bounded-concurrency fan-out over streamed targets
chat_opening  a team member's 1:1 conversation opened through the fan-out, and its reference
live_references whether a target was deleted since its fan-out read it, once a second
outcomes      each target's one outcome, and the report that adds them up
rate_limits   sliding-window limits per conversation and per tenant
tenant_budget each instance's share of a tenant's limits, and 429 pauses, across scale-out
retry_policy  which channel answers to retry, and how long to wait
clocks        the channel's one-second window, and how far instances' clocks may disagree
"""
