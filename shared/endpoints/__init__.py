"""What each function does, behind its thin entry point: trigger input in, result out.

messages  POST /api/messages: validate, authenticate and run one activity
notify    POST /api/notify: signature, idempotency, send inline, queue or schedule
status    GET /api/notify/{id}: state, counts, times and answers
targets   GET /api/notify/{id}/targets: per-target outcomes as JSON or CSV pages
cancel    POST /api/notify/{id}/cancel: stop a scheduled or queued notification
revise    PATCH and DELETE /api/notify/{id}: update or recall what a notification sent
work      the work queue's items, and the poisoned ones
timer     each notify_timer run: queue due notifications, then the scheduled broadcast
"""
