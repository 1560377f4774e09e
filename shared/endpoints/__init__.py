"""What each function does, behind its thin entry point: trigger input in, result out.

messages  POST /api/messages: validate, authenticate and run one activity
notify    POST /api/notify: signature, idempotency, send now or schedule
status    GET /api/notify/{id}: state, report and answers
timer     each notify_timer run: due notifications, then the scheduled broadcast
"""
