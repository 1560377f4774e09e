"""Feedback: what people did with a notification, recorded from the queue, and told to its caller.

recording   a read, a reaction or a click recorded on its target (an EngagementItem's run)
callbacks   callback events POSTed to the caller, signed, at least once, with backoff
done_event  the `done` event, made once every target of a notification has its outcome
"""
