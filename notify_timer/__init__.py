"""Timer (%NOTIFY_SCHEDULE%): send NOTIFY_TIMER_TEXT to every stored conversation."""

import azure.functions as func

from shared.app import get_app


async def main(timer: func.TimerRequest) -> None:
    await get_app().scheduled_broadcast.run(past_due=timer.past_due)
