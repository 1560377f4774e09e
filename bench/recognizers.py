"""`python -m bench.recognizers`: the date/time recognizers we compared, scored on the phrase table.

Each candidate reads every phrase of testbed/reminder_phrases.py whole (trigger and task
included), in the phrase's language, with the table's clock in the phrase's zone; its first find
is the due time. A row counts when that time is the expected one (for a recurring reminder, its
first occurrence), or, where the product asks back, when the candidate finds nothing at all. That
is the recognizer alone; the product's own score (triggers, tasks, recurrence, asking back, on top
of the chosen one) is the last column. Import cost: `import` of the recognizer in a fresh process
and its first call (it loads its language data then), median of --runs.

The candidates not in requirements.txt are scored when installed beside it:
  python -m venv /tmp/rc && /tmp/rc/bin/pip install -r requirements.txt \
      recognizers-text-date-time==1.0.2a2 'emoji<2' && /tmp/rc/bin/python -m bench.recognizers
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from testbed.reminder_phrases import NOW, PHRASES, AsksBack, Due, local, outcome

Finder = Callable[[str, str, datetime], "datetime | None"]  # (text, language, local now) -> due
LANGUAGES = ("en", "de", "fr", "es", "zh", "ko")


def dateparser_finder() -> Finder:
    from dateparser.search import search_dates

    def find(text: str, language: str, now: datetime) -> datetime | None:
        settings = {"RELATIVE_BASE": now, "PREFER_DATES_FROM": "future"}
        found = search_dates(text, languages=[language], settings=settings)
        return found[0][1] if found else None

    return find


def recognizers_finder() -> Finder:
    from recognizers_date_time import Culture, recognize_datetime

    cultures = {
        "en": Culture.English,
        "fr": Culture.French,
        "es": Culture.Spanish,
        "zh": Culture.Chinese,
        "ko": Culture.Korean,
        "de": "de-de",  # no German model in the Python port: it finds nothing
    }

    def find(text: str, language: str, now: datetime) -> datetime | None:
        for result in recognize_datetime(text, cultures[language], reference=now):
            values = [
                _resolved(v["value"], now)
                for v in (result.resolution or {}).get("values", [])
                if v.get("type") in ("datetime", "date", "time")
                and v.get("value", "not resolved") != "not resolved"
            ]
            ahead = [v for v in values if v > now]
            if ahead or values:
                return (ahead or values)[0]
        return None

    return find


def _resolved(value: str, now: datetime) -> datetime:
    """A resolution value: "2026-11-24 09:00:00", "2026-11-27" or a time "09:00:00" (today)."""
    if "-" not in value:
        return datetime.combine(now.date(), datetime.strptime(value, "%H:%M:%S").time())
    return datetime.fromisoformat(value)


CANDIDATES = {
    "dateparser": ("dateparser", dateparser_finder),
    "recognizers-text": ("recognizers_date_time", recognizers_finder),
}


def score(find: Finder) -> dict[str, tuple[int, int]]:
    per_language: dict[str, list[int]] = {lang: [0, 0] for lang in LANGUAGES}
    for locale, zone, text, expected in PHRASES:
        lang = locale[:2]
        now = NOW.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
        try:
            found = find(text, lang, now)
        except Exception:  # a candidate that crashes on a phrase scores nothing for it
            found = None
        if isinstance(expected, AsksBack):
            right = found is None
        else:
            wanted = expected.local if isinstance(expected, Due) else expected.first
            right = found is not None and found.replace(second=0, microsecond=0) == local(
                wanted, zone
            ).replace(tzinfo=None)
        per_language[lang][0] += right
        per_language[lang][1] += 1
    return {lang: (right, total) for lang, (right, total) in per_language.items()}


def product_score() -> dict[str, tuple[int, int]]:
    per_language: dict[str, list[int]] = {lang: [0, 0] for lang in LANGUAGES}
    for locale, zone, text, expected in PHRASES:
        per_language[locale[:2]][0] += outcome(locale, zone, text) == expected
        per_language[locale[:2]][1] += 1
    return {lang: (right, total) for lang, (right, total) in per_language.items()}


def import_cost(module: str, call: str, runs: int) -> tuple[float, float]:
    """Median milliseconds of `import module` and of the first call, each in a fresh process."""
    code = (
        "import time; t0 = time.perf_counter(); "
        f"import {module}; t1 = time.perf_counter(); "
        f"{call}; t2 = time.perf_counter(); "
        "print((t1 - t0) * 1000, (t2 - t1) * 1000)"
    )
    imports, calls = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        first, second = (float(x) for x in out.stdout.split())
        imports.append(first)
        calls.append(second)
    return statistics.median(imports), statistics.median(calls)


FIRST_CALLS = {
    "dateparser": (
        "dateparser.search",
        "dateparser.search.search_dates('in 10 minutes to stretch', languages=['en'])",
    ),
    "recognizers-text": (
        "recognizers_date_time",
        "recognizers_date_time.recognize_datetime('in 10 minutes to stretch', 'en-us')",
    ),
}


def row(name: str, scores: dict[str, tuple[int, int]], extra: str = "") -> str:
    cells = " ".join(f"{scores[lang][0]:>2}/{scores[lang][1]:<2}" for lang in LANGUAGES)
    right = sum(r for r, _ in scores.values())
    total = sum(t for _, t in scores.values())
    return f"{name:>22} {cells}  {right:>3}/{total:<3} {extra}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recognizers", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per import (7)")
    report(parser.parse_args().runs)


def report(runs: int) -> None:
    print(f"\nReminder phrases: {len(PHRASES)} rows, clock {NOW:%Y-%m-%d %H:%M} UTC")
    header = " ".join(f"{lang:<5}" for lang in LANGUAGES)
    print(f"{'':>22} {header}  {'all':<7} import ms / first call ms")
    for name, (module, make) in CANDIDATES.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name:>22} not installed here (see the docstring)")
            continue
        imported, first = import_cost(*FIRST_CALLS[name], runs)
        print(row(name, score(make()), f"{imported:.0f} / {first:.0f}"))
    print(row("product (dateparser +)", product_score()))


if __name__ == "__main__":
    main()
