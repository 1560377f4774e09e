"""Timer (%NOTIFY_SCHEDULE%): deliver due notifications and reminders, then the broadcast."""

import azure.functions as func

from shared.app import get_app


async def main(timer: func.TimerRequest) -> None:
    await get_app().timer_job.run(past_due=timer.past_due)
