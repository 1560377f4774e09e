"""What each Azure Function does, behind its thin entry point: trigger input in, result out.

activities  POST /api/messages: validate, authenticate and run one Bot Framework activity
notify      POST /api/notify: signature, idempotency, send inline, queue or schedule
status      GET /api/notify/{id}: state, counts, times and answers
targets     GET /api/notify/{id}/targets: per-target outcomes as JSON or CSV pages
cancel      POST /api/notify/{id}/cancel: stop a scheduled or queued notification
revise      PATCH and DELETE /api/notify/{id}: update or recall what a notification sent
lookup      a notification named in a route: unknown or malformed is 404, storage down is 503
signature   webhook signatures, X-Signature-256 and Standard Webhooks, checked by notify and revise
idempotency Idempotency-Key and webhook-id: a repeated request gets the first answer
work        each notify_queue / notify_poison message, handed to its kind's handler
timer       each notify_timer run: queue due notifications, then the scheduled broadcast
"""
