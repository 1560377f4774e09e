"""The date/time recognizer, dateparser, loaded on the first reminder request and not before.

Chosen by measurement over Microsoft Recognizers-Text (see `python -m bench.recognizers`): equal
on the phrase table read raw, and it alone covers German and Korean, is maintained, and needs no
2022-era pins. Importing it costs about 0.2 s and its first search about 0.2 s more (language
data), so no function pays that at cold start unless a reminder is asked for.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any


@cache
def _search() -> Any:
    from dateparser.search import search_dates

    return search_dates


def find(text: str, language: str, local_now: datetime) -> tuple[str | None, datetime | None]:
    """The first day or duration in `text` as typed, and the local (naive) time it names; a day
    alone keeps now's clock time, which the caller replaces."""
    settings = {
        "RELATIVE_BASE": local_now.replace(tzinfo=None, second=0, microsecond=0),
        "PREFER_DATES_FROM": "future",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        found = _search()(text, languages=[language], settings=settings)
    except (OverflowError, ValueError):  # "in 99999999999999999999 minutes"
        return None, None
    if not found:
        return None, None
    return found[0]
