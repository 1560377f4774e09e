"""Notifications as records: what a webhook or the timer asked for, and what became of it.

lifecycle           the state names and how long a claim may last
request             the POST /api/notify body, validated
callback            a notification's `callback`: its URL and events, and where the app may call
people              `to.groups` and people named by e-mail: an audience of a directory's people
notification_store  notification records in Table Storage: ids, states, claims, reports
outcome_store       each target's one outcome, in transactions, with claim rows to add up
outcome_writer      the process's outcomes not yet written, written together, bounding repeats
prompt_store        questions with choices, and the answers recorded against them
idempotency_store   Idempotency-Key claims and replays
broadcast_schedule  the scheduled broadcast's own NCRONTAB slots, claimed once each
progress            state, counts and times for the status endpoint
reply_text          what a reply says, ignoring case, spaces and punctuation around it
"""
