"""Adaptive Card templates expanded with data, as the Adaptive Card Templating SDK does it.

`${...}` bindings in any string (a string that is one binding takes the value's own type),
`$data` (rebinds an element to an object, or repeats it for each item of an array, with
`$index`), `$when` (drops the element when false) and `$root`. A binding whose data is missing
stays as written, so `unresolved` can name it. See `expressions` for the expression language.
"""

from __future__ import annotations

import re
from typing import Any

from shared.cards.expressions import UNDEFINED, ExpressionError, Scope, evaluate, text_of

_DROPPED = object()  # an element whose $when is false


def expand(template: Any, data: Any) -> Any:
    """The card `template` becomes with `data` (raises ExpressionError for a bad expression)."""
    return _value(template, Scope(data, data))


def unresolved(card: Any) -> list[str]:
    """The bindings an expanded card still holds, as written (`${name}`)."""
    found: list[str] = []
    _collect(card, found)
    return found


def _collect(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        found.extend(f"${{{expression}}}" for _, _, expression in _bindings(value))
    elif isinstance(value, dict):
        for item in value.values():
            _collect(item, found)
    elif isinstance(value, list):
        for item in value:
            _collect(item, found)


def _value(value: Any, scope: Scope) -> Any:
    if isinstance(value, dict):
        return _object(value, scope)
    if isinstance(value, list):
        return _array(value, scope)
    if isinstance(value, str):
        return _string(value, scope)
    return value


def _object(element: dict[str, Any], scope: Scope) -> Any:
    if "$data" in element:
        bound = _binding(element["$data"], scope)
        if bound is UNDEFINED:
            # Nothing to bind to: kept, with its bindings left as written (the SDK does so too).
            return _object({k: v for k, v in element.items() if k != "$data"}, scope)
        if isinstance(bound, list):
            # Outside an array there is nowhere to repeat it: the first item stands for it.
            return _object({**element, "$data": bound[0] if bound else {}}, scope)
        scope = Scope(bound, scope.root, scope.index)
    if "$when" in element and not _is_true(_binding(element["$when"], scope)):
        return _DROPPED
    expanded = {k: _value(v, scope) for k, v in element.items() if k not in ("$data", "$when")}
    # A property whose object is dropped stays, as null (the SDK does so too).
    return {k: None if v is _DROPPED else v for k, v in expanded.items()}


def _array(items: list[Any], scope: Scope) -> list[Any]:
    expanded: list[Any] = []
    for item in items:
        if isinstance(item, dict) and "$data" in item:
            bound = _binding(item["$data"], scope)
            if isinstance(bound, list):
                # The element is repeated for each item, in that item's scope.
                rest = {k: v for k, v in item.items() if k != "$data"}
                for index, each in enumerate(bound):
                    one = _object(rest, Scope(each, scope.root, index))
                    if one is not _DROPPED:
                        expanded.append(one)
                continue
        one = _value(item, scope)
        if one is not _DROPPED:
            expanded.append(one)
    return expanded


def _binding(value: Any, scope: Scope) -> Any:
    """A `$data` / `$when` value: a "${...}" string is evaluated, anything else is itself."""
    if isinstance(value, str):
        whole = _whole_binding(value)
        if whole is not None:
            return evaluate(whole, scope)
    return _value(value, scope)


def _is_true(value: Any) -> bool:
    return value not in (False, None) and value is not UNDEFINED


def _string(text: str, scope: Scope) -> Any:
    whole = _whole_binding(text)
    if whole is not None:
        value = evaluate(whole, scope)
        return text if value is UNDEFINED else value
    pieces: list[str] = []
    position = 0
    for start, end, expression in _bindings(text):
        value = evaluate(expression, scope)
        pieces.append(text[position:start])
        pieces.append(text[start:end] if value is UNDEFINED else text_of(value))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _whole_binding(text: str) -> str | None:
    """The expression, if the string is one binding and nothing else."""
    bindings = list(_bindings(text))
    if len(bindings) == 1 and bindings[0][0] == 0 and bindings[0][1] == len(text):
        return bindings[0][2]
    return None


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _bindings(text: str):
    """(start, end, expression) of each `${...}` in the text; braces inside quotes are text."""
    position = 0
    while (start := text.find("${", position)) != -1:
        cursor = start + 2
        while cursor < len(text) and text[cursor] != "}":
            quoted = _QUOTED.match(text, cursor)
            cursor = quoted.end() if quoted else cursor + 1
        if cursor >= len(text):
            raise ExpressionError(f"a binding is not closed: {text[start:]!r}")
        yield start, cursor + 1, text[start + 2 : cursor]
        position = cursor + 1
