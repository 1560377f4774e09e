"""Draw the workbook's panels (infra/workbook.bicep) from a local capture into docs/workbook.svg.

The capture is what testbed.otlp_collector writes: JSON lines, each a span or a metric point
tagged with its "type". Each panel computes what its workbook query computes, from the same data
as Application Insights would hold it: SERVER and CONSUMER spans are the `requests` rows, and
metrics reach `customMetrics` as one delta per series and export (Azure Monitor's exporter asks
for delta temporality; OTLP's default is cumulative, so cumulative points are turned into deltas
first). The comment on each computation names the workbook query it mirrors.

A dev-only script, its SVG committed; standard library only: the SVG is written by hand.

    python tools/render_workbook.py CAPTURE.jsonl [--notification ID] [--out docs/workbook.svg]

Without --notification, the progress and per-second panels follow the latest notification that
sent, as the workbook's per-second panel does with no id given.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "workbook.svg"

# The names the app emits (shared/telemetry/names.py); repeated here, as in the workbook, so the
# script runs without the app's packages.
NOTIFICATION_ID = "notify.notification.id"
NOTIFICATION_PATH = "notify.notification.path"
WORK_KIND = "notify.work.kind"
WORK_AGE = "notify.work.age_seconds"
DELIVERY_MATCHED = "notify.delivery.matched"
DELIVERY = "notify.delivery."
TENANT_HASH = "teams.tenant.hash"
OUTCOME = "notify.outcome"
API = "notify.api"
SENDS = "notify.sends"
RETRIES = "notify.send.retries"
THROTTLED = "notify.throttled"
BUDGET_WAIT = "notify.tenant_budget.wait"
QUEUE_AGE = "notify.queue.age"
PROCESS = "process "
REQUEST_KINDS = ("SERVER", "CONSUMER")  # the span kinds Azure Monitor makes `requests` of

OUTCOMES = ("sent", "failed", "removed", "suspended", "skipped", "cancelled")
TENANT_BUDGET = 50.0  # sends per second per tenant: the reference line
PROGRESS_BIN = 10.0  # seconds, as the workbook's bin(..., 10s)
RATE_BIN = 60.0  # seconds, as the workbook's bin(timestamp, 1m) over notify.sends

COLOURS = {
    "sent": "#2e7d32",
    "failed": "#c62828",
    "removed": "#6d4c41",
    "suspended": "#ef6c00",
    "skipped": "#9e9e9e",
    "cancelled": "#6a1b9a",
}
INK, MUTED, GRID, PANEL_EDGE = "#1f2328", "#57606a", "#e6e8eb", "#d0d7de"
ACCENT, ACCENT_LIGHT, BUDGET_RED = "#1f6feb", "#9ec5fe", "#d1242f"
FONT = "Segoe UI, system-ui, -apple-system, Helvetica, Arial, sans-serif"
MONO = "Cascadia Mono, Consolas, Menlo, monospace"


# Reading the capture.


def load(path: Path) -> tuple[list[dict], list[dict]]:
    spans, points = [], []
    with open(path, encoding="utf-8") as capture:
        for line in capture:
            if not line.strip():
                continue
            record = json.loads(line)
            if record.get("type") == "span":
                spans.append(record)
            elif record.get("type") == "metric":
                points.append(record)
    return spans, points


def request_rows(spans: Iterable[dict]) -> list[dict]:
    return [span for span in spans if span["kind"] in REQUEST_KINDS]


def sending(row: dict) -> bool:
    """A run that sent: it reports notify.delivery.matched and a count per outcome."""
    return DELIVERY_MATCHED in row["attributes"]


def count(row: dict, outcome: str) -> int:
    return int(row["attributes"].get(DELIVERY + outcome) or 0)


@dataclass(frozen=True)
class Delta:
    """One customMetrics row: a series' change over one export."""

    name: str
    attributes: dict
    time: float
    value: float  # valueSum: a counter's increase, a histogram's sum of values
    count: float  # valueCount: 1 for a counter, the values recorded for a histogram
    max: float | None  # valueMax (a cumulative histogram's max so far: an upper bound)


def deltas(points: Iterable[dict]) -> list[Delta]:
    """The points as Azure Monitor's exporter would send them: per series (name, attributes,
    resource, start), one row per export that recorded something."""
    series: dict[tuple, list[dict]] = defaultdict(list)
    for point in points:
        key = (
            point["name"],
            json.dumps(point["attributes"], sort_keys=True),
            json.dumps(point.get("resource", {}), sort_keys=True),
            point.get("start"),
        )
        series[key].append(point)
    rows = []
    for ordered in series.values():
        ordered.sort(key=lambda point: point["time"])
        previous: dict | None = None
        for point in ordered:
            histogram = point["kind"] not in ("sum", "gauge")
            value = point["sum"] if histogram else point["value"]
            recorded = point["count"] if histogram else 1
            if point.get("temporality") == "cumulative" and previous is not None:
                value -= previous["sum"] if histogram else previous["value"]
                if histogram:
                    recorded -= previous["count"]
                elif value == 0:
                    recorded = 0
            previous = point
            if recorded == 0:
                continue  # nothing recorded since the last export: a delta exporter sends no row
            maximum = point.get("max") if histogram else value
            rows.append(
                Delta(point["name"], point["attributes"], point["time"], value, recorded, maximum)
            )
    return rows


def kql_bin(seconds: float, size: float) -> float:
    return math.floor(seconds / size) * size


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank. KQL's percentile() estimates (t-digest): close, not always equal."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# The panels' data, each as its workbook query computes it.


def latest_sending_notification(rows: Iterable[dict]) -> str:
    """sendRateQuery's `chosen` with no id given: the notification of the latest sending run."""
    runs = [row for row in rows if sending(row)]
    if not runs:
        return ""
    return str(max(runs, key=lambda row: row["start"])["attributes"].get(NOTIFICATION_ID, ""))


def progress(rows: Iterable[dict], notification: str) -> dict[str, list[tuple[float, int]]]:
    """progressQuery: every sending run's counts by outcome, binned by when it ended (10 s),
    cumulative."""
    binned: dict[str, dict[float, int]] = {outcome: defaultdict(int) for outcome in OUTCOMES}
    for row in rows:
        if not sending(row):
            continue
        if notification and row["attributes"].get(NOTIFICATION_ID) != notification:
            continue
        ended = kql_bin(row["end"], PROGRESS_BIN)
        for outcome in OUTCOMES:
            binned[outcome][ended] += count(row, outcome)
    series = {}
    for outcome, bins in binned.items():
        total, points = 0, []
        for ended in sorted(bins):
            total += bins[ended]
            points.append((ended, total))
        series[outcome] = points
    return series


def send_rate(rows: Iterable[dict], notification: str) -> list[tuple[float, float]]:
    """sendRateQuery: each sending run's `sent` shared among the whole seconds it touched, in
    proportion to its time in each; summed per second, zero-filled from the first to the last."""
    per_second: dict[float, float] = defaultdict(float)
    for row in rows:
        if not sending(row) or row["attributes"].get(NOTIFICATION_ID) != notification:
            continue
        sent, started, ended = count(row, "sent"), row["start"], row["end"]
        if sent <= 0:
            continue
        second = kql_bin(started, 1)
        while second <= ended:  # range(bin(started, 1s), ended, 1s)
            if ended > started:
                overlap = min(second + 1, ended) - max(second, started)
                per_second[second] += sent * overlap / (ended - started)
            else:
                per_second[second] += sent
            second += 1
    if not per_second:
        return []
    first, last = min(per_second), max(per_second)
    steps = range(int(last - first) + 1)
    return [(first + step, per_second.get(first + step, 0.0)) for step in steps]


def send_rate_metric(rows: Iterable[Delta]) -> list[tuple[float, float, float]]:
    """sendRateMetricQuery: notify.sends per minute / 60: (minute, sent per s, outcomes per s)."""
    sent: dict[float, float] = defaultdict(float)
    outcomes: dict[float, float] = defaultdict(float)
    for row in rows:
        if row.name != SENDS:
            continue
        minute = kql_bin(row.time, RATE_BIN)
        outcomes[minute] += row.value
        if row.attributes.get(OUTCOME) == "sent":
            sent[minute] += row.value
    return [(m, sent[m] / RATE_BIN, outcomes[m] / RATE_BIN) for m in sorted(outcomes)]


def outcome_totals(rows: Iterable[Delta]) -> list[tuple[str, float]]:
    """outcomesQuery: notify.sends summed by outcome, largest first."""
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        if row.name == SENDS:
            totals[str(row.attributes.get(OUTCOME, ""))] += row.value
    return sorted(totals.items(), key=lambda item: -item[1])


@dataclass
class Tenant:
    tenant: str
    throttled_connector: float = 0
    throttled_graph: float = 0
    retries: float = 0
    waits: float = 0
    wait_total_s: float = 0
    wait_max_s: float | None = None

    @property
    def wait_avg_s(self) -> float | None:
        return self.wait_total_s / self.waits if self.waits else None


def tenants(rows: Iterable[Delta]) -> list[Tenant]:
    """tenantsQuery: per tenant hash, 429s by service, retries, and budget waits (count, sum,
    max), ordered by total wait."""
    found: dict[str, Tenant] = {}
    for row in rows:
        if row.name not in (THROTTLED, RETRIES, BUDGET_WAIT):
            continue
        hashed = str(row.attributes.get(TENANT_HASH, ""))
        tenant = found.setdefault(hashed, Tenant(hashed))
        if row.name == THROTTLED and row.attributes.get(API) == "connector":
            tenant.throttled_connector += row.value
        elif row.name == THROTTLED and row.attributes.get(API) == "graph":
            tenant.throttled_graph += row.value
        elif row.name == RETRIES:
            tenant.retries += row.value
        elif row.name == BUDGET_WAIT:
            tenant.waits += row.count
            tenant.wait_total_s += row.value
            if row.max is not None:
                tenant.wait_max_s = max(tenant.wait_max_s or 0.0, row.max)
    return sorted(found.values(), key=lambda tenant: -tenant.wait_total_s)


@dataclass(frozen=True)
class QueueAge:
    kind: str
    items: float
    avg_s: float
    p50_s: float | None
    p95_s: float | None
    max_s: float | None


def queue_ages(rows: Iterable[dict], metric_rows: Iterable[Delta]) -> list[QueueAge]:
    """queueAgeQuery: notify.queue.age's count, average and max by kind, with percentiles of
    the `process <kind>` spans' notify.work.age_seconds."""
    ages: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        kind = row["attributes"].get(WORK_KIND)
        if row["name"].startswith(PROCESS) and kind and WORK_AGE in row["attributes"]:
            ages[kind].append(float(row["attributes"][WORK_AGE]))
    items: dict[str, float] = defaultdict(float)
    totals: dict[str, float] = defaultdict(float)
    maxima: dict[str, float] = {}
    for row in metric_rows:
        if row.name != QUEUE_AGE:
            continue
        kind = str(row.attributes.get(WORK_KIND, ""))
        items[kind] += row.count
        totals[kind] += row.value
        if row.max is not None:
            maxima[kind] = max(maxima.get(kind, 0.0), row.max)
    return [
        QueueAge(
            kind,
            items[kind],
            totals[kind] / items[kind] if items[kind] else 0.0,
            percentile(ages.get(kind, []), 50),
            percentile(ages.get(kind, []), 95),
            maxima.get(kind),
        )
        for kind in sorted(items)
    ]


@dataclass(frozen=True)
class Notification:
    id: str
    path: str
    started: float
    duration_s: float
    counts: dict[str, int]
    runs: int


def notifications(rows: Iterable[dict]) -> list[Notification]:
    """notificationsQuery: per notification id, from its first span to the end of its last
    sending run (an inline one: of its request), with its runs' counts; latest first."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        notification = row["attributes"].get(NOTIFICATION_ID)
        if notification:
            grouped[str(notification)].append(row)
    found = []
    for notification, group in grouped.items():
        requests = [row for row in group if row["attributes"].get(NOTIFICATION_PATH)]
        runs = [row for row in group if sending(row)]
        started = min(row["start"] for row in group)
        ends = [row["end"] for row in runs] or [row["end"] for row in requests]
        counts = {outcome: sum(count(row, outcome) for row in runs) for outcome in OUTCOMES}
        counts["matched"] = sum(int(row["attributes"][DELIVERY_MATCHED]) for row in runs)
        found.append(
            Notification(
                notification,
                str(requests[0]["attributes"][NOTIFICATION_PATH]) if requests else "",
                started,
                max(ends) - started if ends else 0.0,
                counts,
                len(runs),
            )
        )
    return sorted(found, key=lambda notification: -notification.started)[:50]


# Drawing.


def number(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "–"
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def seconds_label(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 10:
        return f"{value:.2f} s"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


def clock(seconds: float, with_seconds: bool = True) -> str:
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%H:%M:%S" if with_seconds else "%H:%M")


def nice_axis(high: float, ticks: int = 5) -> tuple[float, list[float]]:
    """A top at or above `high` and evenly spaced round ticks from 0 to it."""
    if high <= 0:
        high = 1.0
    raw = high / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(high / step - 1e-9) * step
    return top, [step * i for i in range(round(top / step) + 1)]


TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)


def time_ticks(start: float, end: float, most: int = 6) -> list[float]:
    span = max(end - start, 1.0)
    step = next((s for s in TIME_STEPS if span / s <= most), TIME_STEPS[-1])
    first = math.ceil(start / step) * step
    return [first + step * i for i in range(int((end - first) // step) + 1)]


class Svg:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []

    def add(self, element: str) -> None:
        self.parts.append(element)

    def text(
        self,
        x: float,
        y: float,
        content: str,
        size: float = 12,
        fill: str = INK,
        anchor: str = "start",
        weight: str = "normal",
        family: str = FONT,
    ) -> None:
        self.add(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}" font-family="{family}">'
            f"{escape(content)}</text>"
        )

    def line(self, x1, y1, x2, y2, stroke=GRID, width=1.0, dash="") -> None:
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="{stroke}" stroke-width="{width}"{dashed}/>'
        )

    def rect(self, x, y, w, h, fill, stroke="none", radius=0.0, opacity=1.0) -> None:
        self.add(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{max(h, 0):.1f}" '
            f'rx="{radius}" fill="{fill}" stroke="{stroke}" fill-opacity="{opacity}"/>'
        )

    def polyline(self, points, stroke, width=2.0, dash="") -> None:
        if not points:
            return
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.add(
            f'<polyline points="{coordinates}" fill="none" stroke="{stroke}" '
            f'stroke-width="{width}" stroke-linejoin="round"{dashed}/>'
        )

    def polygon(self, points, fill, opacity=0.85) -> None:
        coordinates = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        self.add(f'<polygon points="{coordinates}" fill="{fill}" fill-opacity="{opacity}"/>')

    def render(self) -> str:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}">\n'
            f'<rect width="{self.width}" height="{self.height}" fill="#f6f8fa"/>\n'
            + "\n".join(self.parts)
            + "\n</svg>\n"
        )


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float


def panel(svg: Svg, box: Box, title: str, source: str) -> Box:
    """A panel's frame and title; returns the area left for its content."""
    svg.rect(box.x, box.y, box.w, box.h, "#ffffff", PANEL_EDGE, radius=6)
    svg.text(box.x + 16, box.y + 26, title, size=14, weight="600")
    svg.text(box.x + 16, box.y + 44, source, size=11, fill=MUTED)
    return Box(box.x + 16, box.y + 56, box.w - 32, box.h - 68)


def legend(svg: Svg, x: float, y: float, entries: Sequence[tuple[str, str, str]]) -> None:
    """Entries (label, colour, "box" or "line" or "dash") in a row from (x, y)."""
    for label, colour, mark in entries:
        if mark == "box":
            svg.rect(x, y - 9, 10, 10, colour, radius=2)
        else:
            svg.line(x, y - 4, x + 14, y - 4, colour, 2.5, "5 3" if mark == "dash" else "")
        svg.text(x + 18, y, label, size=11, fill=MUTED)
        x += 18 + 6.2 * len(label) + 14


def chart_axes(
    svg: Svg, area: Box, start: float, end: float, top: float, ticks: Sequence[float], unit: str
) -> tuple:
    """Gridlines and labels; returns the (time -> x, value -> y) mappings."""
    left, bottom = area.x + 46, area.y + area.h - 20
    width, height = area.w - 52, area.h - 44
    span = max(end - start, 1.0)

    def to_x(t: float) -> float:
        return left + (t - start) / span * width

    def to_y(v: float) -> float:
        return bottom - v / top * height

    for tick in ticks:
        svg.line(left, to_y(tick), left + width, to_y(tick))
        svg.text(left - 6, to_y(tick) + 4, number(tick, 0 if tick >= 10 else 1), 10, MUTED, "end")
    for tick in time_ticks(start, end):
        svg.line(to_x(tick), bottom, to_x(tick), bottom + 4, MUTED)
        svg.text(to_x(tick), bottom + 16, clock(tick), 10, MUTED, "middle")
    svg.line(left, bottom, left + width, bottom, MUTED)
    svg.text(left - 6, area.y + 10, unit, 10, MUTED, "end")
    return to_x, to_y


def draw_progress(svg: Svg, box: Box, series: dict[str, list[tuple[float, int]]], title_id: str):
    area = panel(
        svg,
        box,
        f"Progress of {title_id[:8]}…: targets done by outcome",
        "progressQuery · sending runs' notify.delivery.<outcome>, by end (10 s bins), cumulative",
    )
    times = sorted({t for points in series.values() for t, _ in points})
    if not times:
        svg.text(area.x, area.y + 40, "No sending runs in the capture.", 12, MUTED)
        return
    # Stacked, from nothing done one bin before the first: the top edge is every target done.
    start, end = times[0] - PROGRESS_BIN, times[-1] + PROGRESS_BIN
    times = [start, *times]
    levels = dict.fromkeys(times, 0.0)
    stacked = []
    for outcome in OUTCOMES:
        values = dict(series[outcome])
        running, lower, upper = 0.0, [], []
        for t in times:
            running = values.get(t, running)
            lower.append((t, levels[t]))
            levels[t] += running
            upper.append((t, levels[t]))
        if running:
            stacked.append((outcome, lower, upper))
    top, ticks = nice_axis(max(levels.values()))
    plot = Box(area.x, area.y + 18, area.w, area.h - 18)
    to_x, to_y = chart_axes(svg, plot, start, end, top, ticks, "targets")
    for outcome, lower, upper in stacked:
        outline = [(to_x(t), to_y(v)) for t, v in upper]
        outline += [(to_x(t), to_y(v)) for t, v in reversed(lower)]
        svg.polygon(outline, COLOURS[outcome])
    total = max(levels.values())
    svg.text(to_x(times[-1]), to_y(total) - 6, f"{number(total)} done", 11, INK, "end", "600")
    legend(svg, area.x, area.y + 8, [(o, COLOURS[o], "box") for o, _, _ in stacked])


def draw_send_rate(
    svg: Svg,
    box: Box,
    per_second: list[tuple[float, float]],
    per_minute: list[tuple[float, float, float]],
    title_id: str,
) -> None:
    area = panel(
        svg,
        box,
        f"Sends per second of {title_id[:8]}…, against one tenant's 50/s",
        "sendRateQuery · runs' notify.delivery.sent over their seconds;"
        " sendRateMetricQuery · notify.sends",
    )
    if not per_second:
        svg.text(area.x, area.y + 40, "No sends in the capture.", 12, MUTED)
        return
    start, end = per_second[0][0] - 5, per_second[-1][0] + 6
    minutes = [row for row in per_minute if start - RATE_BIN < row[0] <= end]
    high = max([rate for _, rate in per_second] + [row[1] for row in minutes] + [TENANT_BUDGET])
    top, ticks = nice_axis(high * 1.08)
    to_x, to_y = chart_axes(
        svg, Box(area.x, area.y + 18, area.w, area.h - 18), start, end, top, ticks, "per s"
    )
    for minute, sent, _ in minutes:  # a step per minute, clipped to the chart
        left, right = max(minute, start), min(minute + RATE_BIN, end)
        svg.rect(
            to_x(left),
            to_y(sent),
            to_x(right) - to_x(left),
            to_y(0) - to_y(sent),
            ACCENT_LIGHT,
            opacity=0.55,
        )
    svg.polyline([(to_x(t + 0.5), to_y(rate)) for t, rate in per_second], ACCENT, 1.8)
    if len(per_second) == 1:  # a run within one second: a point, not a line
        ((t, rate),) = per_second
        svg.add(f'<circle cx="{to_x(t + 0.5):.1f}" cy="{to_y(rate):.1f}" r="3" fill="{ACCENT}"/>')
    svg.line(
        to_x(start), to_y(TENANT_BUDGET), to_x(end), to_y(TENANT_BUDGET), BUDGET_RED, 1.6, "6 4"
    )
    legend(
        svg,
        area.x,
        area.y + 8,
        [
            ("sent per second (spans)", ACCENT, "line"),
            ("sent per s, per minute (notify.sends)", ACCENT_LIGHT, "box"),
            ("50/s: one tenant", BUDGET_RED, "dash"),
        ],
    )


def draw_outcomes(svg: Svg, box: Box, totals: list[tuple[str, float]]) -> None:
    area = panel(svg, box, "Outcomes", "outcomesQuery · notify.sends by notify.outcome")
    whole = sum(value for _, value in totals)
    if not whole:
        svg.text(area.x, area.y + 40, "No notify.sends in the capture.", 12, MUTED)
        return
    radius = min(area.h / 2 - 8, area.w / 4)
    cx, cy = area.x + radius + 12, area.y + area.h / 2
    angle = -math.pi / 2
    for outcome, value in totals:
        share = value / whole
        if share >= 0.9999:
            svg.add(
                f'<circle cx="{cx}" cy="{cy}" r="{radius}" fill="{COLOURS.get(outcome, MUTED)}"/>'
            )
            break
        sweep = share * 2 * math.pi
        x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        x2, y2 = cx + radius * math.cos(angle + sweep), cy + radius * math.sin(angle + sweep)
        large = 1 if sweep > math.pi else 0
        svg.add(
            f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} '
            f'A{radius:.1f},{radius:.1f} 0 {large} 1 {x2:.1f},{y2:.1f} Z" '
            f'fill="{COLOURS.get(outcome, MUTED)}" stroke="#ffffff" stroke-width="1.5"/>'
        )
        angle += sweep
    svg.add(f'<circle cx="{cx}" cy="{cy}" r="{radius * 0.58:.1f}" fill="#ffffff"/>')
    svg.text(cx, cy + 2, number(whole), 18, INK, "middle", "600")
    svg.text(cx, cy + 18, "targets", 11, MUTED, "middle")
    x, y = cx + radius + 36, area.y + 24
    for outcome, value in totals:
        svg.rect(x, y - 10, 12, 12, COLOURS.get(outcome, MUTED), radius=2)
        svg.text(x + 20, y, outcome, 12)
        svg.text(x + 170, y, number(value), 12, INK, "end", "600")
        svg.text(x + 230, y, f"{value / whole:.1%}", 12, MUTED, "end")
        y += 24


def draw_tenants(svg: Svg, box: Box, rows: list[Tenant]) -> None:
    area = panel(
        svg,
        box,
        "Tenants: 429s and budget waits",
        "tenantsQuery · notify.throttled, notify.send.retries, notify.tenant_budget.wait",
    )
    if not rows:
        svg.text(area.x, area.y + 40, "No tenant metrics in the capture.", 12, MUTED)
        return
    shown = rows[: max(1, int((area.h - 30) // 34))]
    label_w, gap = 130, 20
    column = (area.w - label_w - gap) / 2
    left_x, right_x = area.x + label_w, area.x + label_w + column + gap
    most_429 = max(max(r.throttled_connector + r.throttled_graph for r in shown), 1)
    longest = max(max(r.wait_max_s or 0 for r in shown), 1e-9)
    svg.text(left_x, area.y + 10, "429s (connector, graph) · retries", 11, MUTED)
    svg.text(right_x, area.y + 10, "budget wait per send: average | max", 11, MUTED)
    y = area.y + 30
    for row in shown:
        svg.text(area.x, y + 13, row.tenant[:16], 11, INK, family=MONO)
        width = column - 110
        connector = row.throttled_connector / most_429 * width
        graph = row.throttled_graph / most_429 * width
        svg.rect(left_x, y + 2, connector, 14, BUDGET_RED, radius=2)
        svg.rect(left_x + connector, y + 2, graph, 14, "#f4a3a8", radius=2)
        throttled = number(row.throttled_connector + row.throttled_graph)
        label = f"{throttled} · {number(row.retries)} retries"
        svg.text(left_x + connector + graph + 6, y + 13, label, 11, MUTED)
        scale = (column - 120) / longest
        svg.rect(right_x, y + 2, (row.wait_max_s or 0) * scale, 14, ACCENT_LIGHT, radius=2)
        svg.rect(right_x, y + 2, (row.wait_avg_s or 0) * scale, 14, ACCENT, radius=2)
        svg.text(
            right_x + (row.wait_max_s or 0) * scale + 6,
            y + 13,
            f"{seconds_label(row.wait_avg_s)} | {seconds_label(row.wait_max_s)}",
            11,
            MUTED,
        )
        svg.text(area.x, y + 27, f"{number(row.waits)} sends waited", 10, MUTED)
        y += 34


def draw_queue_age(svg: Svg, box: Box, rows: list[QueueAge]) -> None:
    area = panel(
        svg,
        box,
        "Queue age at pickup, by work kind",
        "queueAgeQuery · notify.queue.age (avg, max), notify.work.age_seconds (p50, p95)",
    )
    if not rows:
        svg.text(area.x, area.y + 40, "No notify.queue.age in the capture.", 12, MUTED)
        return
    label_w = 92
    width = area.w - label_w - 150
    longest = max(max((r.max_s or 0, r.p95_s or 0, r.avg_s) for r in rows)) or 1.0
    legend(
        svg,
        area.x,
        area.y + 8,
        [("average", ACCENT, "box"), ("p95", "#5a9bf6", "box"), ("max", ACCENT_LIGHT, "box")],
    )
    step = min(40.0, (area.h - 26) / len(rows))
    y = area.y + 24
    for row in rows:
        svg.text(area.x, y + 14, row.kind, 12, INK)
        svg.text(area.x, y + 27, f"{number(row.items)} items", 10, MUTED)
        for value, colour, height in (
            (row.max_s, ACCENT_LIGHT, 18),
            (row.p95_s, "#5a9bf6", 12),
            (row.avg_s, ACCENT, 6),
        ):
            if value:
                svg.rect(
                    area.x + label_w,
                    y + 3 + (18 - height) / 2,
                    value / longest * width,
                    height,
                    colour,
                    radius=2,
                )
        svg.text(
            area.x + label_w + width + 8,
            y + 16,
            f"{seconds_label(row.avg_s)} · {seconds_label(row.p95_s)} · {seconds_label(row.max_s)}",
            11,
            MUTED,
        )
        y += step


def draw_notifications(svg: Svg, box: Box, rows: list[Notification]) -> None:
    area = panel(
        svg,
        box,
        "Recent notifications",
        "notificationsQuery · first span to the end of the last sending run",
    )
    columns = [
        ("id", 0, "start"),
        ("path", 100, "start"),
        ("started", 160, "start"),
        ("took", 272, "end"),
        ("matched", 340, "end"),
        ("sent", 400, "end"),
        ("failed", 455, "end"),
        ("other", 510, "end"),
        ("runs", 565, "end"),
    ]
    for label, offset, anchor in columns:
        svg.text(area.x + offset, area.y + 10, label, 11, MUTED, anchor, "600")
    svg.line(area.x, area.y + 16, area.x + area.w, area.y + 16, PANEL_EDGE)
    y = area.y + 34
    for row in rows[: int((area.h - 24) // 22)]:
        other = sum(row.counts[o] for o in OUTCOMES if o not in ("sent", "failed"))
        cells = [
            row.id if len(row.id) <= 13 else row.id[:12] + "…",
            row.path or "–",
            clock(row.started),
            seconds_label(row.duration_s),
            number(row.counts["matched"]),
            number(row.counts["sent"]),
            number(row.counts["failed"]),
            number(other),
            number(row.runs),
        ]
        for (_, offset, anchor), cell in zip(columns, cells, strict=True):
            family = MONO if offset == 0 else FONT
            svg.text(area.x + offset, y, cell, 11, INK, anchor, family=family)
        y += 22


def render(
    spans: list[dict], points: list[dict], notification: str, source: str, title: str
) -> str:
    rows = request_rows(spans)
    metric_rows = deltas(points)
    chosen = notification or latest_sending_notification(rows)
    width, gutter = 1280, 24
    panel_w, heights = (width - 3 * gutter) / 2, (330, 300, 300)  # the charts' row is taller
    svg = Svg(width, int(86 + sum(heights) + 3 * gutter))
    times = [span["start"] for span in spans] + [point["time"] for point in points]
    when = ""
    if times:
        first = datetime.fromtimestamp(min(times), tz=timezone.utc)
        when = f"{first:%Y-%m-%d} {clock(min(times))}–{clock(max(times))} UTC"
    svg.text(gutter, 40, title, 22, INK, weight="600")
    svg.text(
        gutter,
        64,
        f"{source} · {when} · {len(spans):,} spans, {len(points):,} metric points · "
        "the panels of infra/workbook.bicep, computed as its queries",
        12,
        MUTED,
    )

    def cell(column: int, row: int) -> Box:
        top = 86 + sum(heights[:row]) + row * gutter
        return Box(gutter + column * (panel_w + gutter), top, panel_w, heights[row])

    label = chosen or "every notification"
    draw_progress(svg, cell(0, 0), progress(rows, chosen), label)
    draw_send_rate(svg, cell(1, 0), send_rate(rows, chosen), send_rate_metric(metric_rows), label)
    draw_outcomes(svg, cell(0, 1), outcome_totals(metric_rows))
    draw_tenants(svg, cell(1, 1), tenants(metric_rows))
    draw_queue_age(svg, cell(0, 2), queue_ages(rows, metric_rows))
    draw_notifications(svg, cell(1, 2), notifications(rows))
    return svg.render()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python tools/render_workbook.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("capture", type=Path, help="JSON lines from testbed.otlp_collector")
    parser.add_argument("--notification", default="", help="notify.notification.id to follow")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--title", default="Proactive notifications")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spans, points = load(args.capture)
    if not spans and not points:
        print(f"{args.capture}: no spans or metric points", file=sys.stderr)
        return 1
    args.out.write_text(
        render(spans, points, args.notification, args.capture.name, args.title), encoding="utf-8"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
