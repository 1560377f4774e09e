"""Notifications: what a webhook or the timer asks to send, recorded and sent once.

lifecycle           the state names and how long a claim may last
records             notification records in Table Storage: ids, states, claims, reports
request             the POST /api/notify body, validated
notifier            send inline, queue or schedule; queue what has come due
work_items          the small queue items a large notification is split into
expansion           split an audience into chunk items, a window of pages per run
chunk_delivery      send one chunk and record its outcomes as they come in
team_members        a team's members reached one to one, a roster page per work item
team_channels       a new post in a team's General channel or in every channel
named_members       `to.userIds` naming team members who never talked to the bot: their 1:1s
outcomes            each target's one outcome, in transactions, with claim rows to add up
cancellation        whether a queued notification was cancelled, read once a second
revisions           updates and recalls of what a notification sent, through the queue
poisoned_work       what a work item the host gave up on leaves behind
progress            state, counts and times for the status endpoint
prompts             questions with choices, and the answers recorded against them
reply_text          what a reply says, ignoring case, spaces and punctuation around it
idempotency         Idempotency-Key claims and replays
signature           HMAC-SHA256 webhook signatures
broadcast_schedule  the scheduled broadcast's own NCRONTAB slots, claimed once each
"""
