"""Sending: a notification turned into sends, inline or through the work queue, one item at a time.

context         what the steps share: WorkContext (records, queue, clock) and TeamsAccess
notifier        send inline, queue or schedule; queue what has come due
work_items      the small queue items a large notification is split into
handlers        each work item kind's handler (run, and give_up once the host gave up), in one table
expansion       split an audience into chunk items, a window of pages per run
chunk_delivery  send one chunk and record its outcomes as they come in
team_steps      one team of a team audience: its record, its stored conversation, whether reachable
team_members    a team's members reached one to one, a roster page per work item
team_channels   a new post in a team's General channel or in every channel
named_members   `to.userIds` naming team members who never talked to the bot: their 1:1s
people          a directory's people one to one, the app installed for them: a page per item
unreached       outcomes of targets found while sending that have no conversation to send to
revisions       updates and recalls of what a notification sent, through the queue
cancellation    whether a queued notification was cancelled, read once a second
"""
