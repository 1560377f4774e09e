"""A JSON value too large for one Table property, stored across several in the same entity.

A value whose JSON fits one string property is written as that property, `name`, exactly as
records have always been written, so every reader, older instances included, reads it. A larger
value is compact UTF-8 JSON, compressed, in binary properties of at most 64 KiB: `{name}Parts`
says how many, `{name}Part0`, `{name}Part1`, ... hold them in order. Non-ASCII text stays UTF-8
(3 bytes for a CJK character, not the 6 of a JSON escape), and compressed, a request takes less
than the body it came in. One entity still holds the whole value: one write, as before.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from typing import Any

from shared.storage.tables import MAX_BINARY_PROPERTY_BYTES, MAX_STRING_PROPERTY_CHARS


def json_properties(name: str, value: Any, max_bytes: int) -> dict[str, Any]:
    """The properties that hold `value`; ValueError when they would take over `max_bytes`."""
    properties, size = _encode(name, value)
    if size > max_bytes:
        raise ValueError(f"{name} takes {size} bytes stored, over its share of {max_bytes}")
    return properties


def report_properties(name: str, report: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """A delivery report's properties within `max_bytes`: the failures are what gets cut."""
    properties, size = _encode(name, report)
    failures = report.get("failures", [])
    kept = list(failures)
    while kept and size > max_bytes:
        # A reader still gets the counts, and how many failures were left out.
        kept = kept[: len(kept) // 2]
        cut = {**report, "failures": kept, "failuresOmitted": len(failures) - len(kept)}
        properties, size = _encode(name, cut)
    if size > max_bytes:
        raise ValueError(f"{name} takes {size} bytes stored, over its share of {max_bytes}")
    return properties


def json_value(entity: Mapping[str, Any], name: str) -> Any:
    """The value `json_properties` wrote (or one string property of JSON), None if absent."""
    parts = entity.get(f"{name}Parts")
    if parts is None:
        text = entity.get(name)
        return json.loads(text) if text else None
    data = b"".join(entity[f"{name}Part{index}"] for index in range(parts))
    return json.loads(zlib.decompress(data).decode("utf-8", "surrogatepass"))


def _encode(name: str, value: Any) -> tuple[dict[str, Any], int]:
    """The properties holding `value`, and the bytes they take."""
    text = json.dumps(value)
    if len(text) <= MAX_STRING_PROPERTY_CHARS:
        return {name: text}, 2 * len(text)  # stored as UTF-16
    compact = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    # surrogatepass: a lone surrogate (JSON allows "\ud800") comes back as itself.
    data = zlib.compress(compact.encode("utf-8", "surrogatepass"))
    parts = range(0, len(data), MAX_BINARY_PROPERTY_BYTES)
    properties: dict[str, Any] = {f"{name}Parts": len(parts)}
    for index, start in enumerate(parts):
        properties[f"{name}Part{index}"] = data[start : start + MAX_BINARY_PROPERTY_BYTES]
    return properties, len(data)
