"""Timer (%NOTIFY_SCHEDULE%): deliver due notifications and reminders, then the broadcast.

`work` is a queue output binding to the work queue: a run that queued work writes a WakeItem
through it, and the host wakes its own listener at once for it.
"""

import azure.functions as func

from shared.app import get_app


async def main(timer: func.TimerRequest, work: func.Out[str], context: func.Context = None) -> None:
    await get_app().timer_job.run(past_due=timer.past_due, wake=work.set, context=context)
