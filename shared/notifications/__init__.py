"""Notifications: what a webhook or the timer asks to send, recorded and sent once.

lifecycle           the state names and how long a claim may last
records             notification records in Table Storage: ids, states, claims, reports
request             the POST /api/notify body, validated
notifier            send now or schedule; deliver what has come due
outcomes            each target's one outcome, in batches, with summaries to add up
work_items          the small queue items a large notification is split into
prompts             questions with choices, and the answers recorded against them
idempotency         Idempotency-Key claims and replays
signature           HMAC-SHA256 webhook signatures
broadcast_schedule  the scheduled broadcast's own NCRONTAB slots, claimed once each
"""
