"""The binding expressions of Adaptive Card templates (`${...}`): the documented subset of the
Adaptive Expressions language that card templates use.

Paths (`a.b`, `a[0]`, `a['key']`, `$root`, `$data`, `$index`), literals, `! -`, `* / %`, `+ -`,
comparisons, `== !=`, `&& ||`, and the functions in FUNCTIONS. As in the JavaScript templating
library, a path that names nothing is *undefined*: the binding it is in stays as written, so a
template whose data leaves something out is found before anything is sent. `if`, `exists`,
`empty`, `!`, `&&`, `||` and `==` take undefined as false (or as not equal) instead. Only false,
null and undefined are false (0 and "" are true), as in Adaptive Expressions.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


class ExpressionError(ValueError):
    """Not an expression of the supported language (a syntax error, an unknown function)."""


class _Undefined:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED: Any = _Undefined()  # what a path that names nothing evaluates to


@dataclass(frozen=True)
class Scope:
    """What names mean where a binding is evaluated: the current data, the root, the index."""

    data: Any
    root: Any
    index: int | None = None

    def lookup(self, name: str) -> Any:
        if name == "$root":
            return self.root
        if name == "$data":
            return self.data
        if name == "$index":
            return UNDEFINED if self.index is None else self.index
        return _member(self.data, name)


def evaluate(expression: str, scope: Scope) -> Any:
    """The value of one expression (the text between `${` and `}`)."""
    return _Parser(expression).parse()(scope)


# --- tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!().,\[\]])
    )""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


# --- parsing into closures over a scope ----------------------------------------------------------

Node = Callable[[Scope], Any]
_BINARY_LEVELS: tuple[tuple[str, ...], ...] = (
    ("||",),
    ("&&",),
    ("==", "!="),
    ("<", "<=", ">", ">="),
    ("+", "-"),
    ("*", "/", "%"),
)


class _Parser:
    def __init__(self, text: str) -> None:
        self._tokens = _tokens(text)
        self._at = 0
        if not self._tokens:
            raise ExpressionError("empty expression")

    def parse(self) -> Node:
        node = self._binary(0)
        if self._at != len(self._tokens):
            raise ExpressionError(f"unexpected {self._tokens[self._at][1]!r}")
        return node

    def _peek(self) -> str | None:
        return self._tokens[self._at][1] if self._at < len(self._tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self._at >= len(self._tokens):
            raise ExpressionError("the expression ends too soon")
        token = self._tokens[self._at]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r}")
        self._at += 1
        return token

    def _binary(self, level: int) -> Node:
        if level == len(_BINARY_LEVELS):
            return self._unary()
        node = self._binary(level + 1)
        while self._peek() in _BINARY_LEVELS[level]:
            operator = self._take()[1]
            right = self._binary(level + 1)
            node = _binary_node(operator, node, right)
        return node

    def _unary(self) -> Node:
        if self._peek() == "!":
            self._take()
            operand = self._unary()
            return lambda scope: not _truthy(operand(scope))
        if self._peek() == "-":
            self._take()
            operand = self._unary()
            return lambda scope: _arithmetic("-", 0, operand(scope))
        return self._postfix(self._primary())

    def _primary(self) -> Node:
        kind, text = self._take()
        if kind == "number":
            value: Any = float(text) if "." in text else int(text)
            return lambda scope: value
        if kind == "string":
            literal = text[1:-1]
            return lambda scope: literal
        if text == "(":
            node = self._binary(0)
            self._take(")")
            return node
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r}")
        if text in ("true", "false", "null"):
            constant = {"true": True, "false": False, "null": None}[text]
            return lambda scope: constant
        if self._peek() == "(":
            return self._call(text)
        return lambda scope: scope.lookup(text)

    def _call(self, name: str) -> Node:
        function = FUNCTIONS.get(name)
        if function is None:
            raise ExpressionError(f"unknown function {name}")
        self._take("(")
        arguments: list[Node] = []
        while self._peek() != ")":
            arguments.append(self._binary(0))
            if self._peek() != ")":
                self._take(",")
        self._take(")")
        if name in _LAZY:
            return lambda scope: function(scope, *arguments)
        return lambda scope: _apply(function, [a(scope) for a in arguments])

    def _postfix(self, node: Node) -> Node:
        while self._peek() in (".", "["):
            if self._take()[1] == ".":
                kind, member = self._take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name, found {member!r}")
                node = _member_node(node, lambda scope, member=member: member)
            else:
                key = self._binary(0)
                self._take("]")
                node = _member_node(node, key)
        return node


def _member_node(target: Node, key: Node) -> Node:
    return lambda scope: _member(target(scope), key(scope))


def _member(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping) and isinstance(key, str):
        return value.get(key, UNDEFINED)
    if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool):
        return value[key] if 0 <= key < len(value) else UNDEFINED
    return UNDEFINED


def _truthy(value: Any) -> bool:
    return value not in (False, None) and value is not UNDEFINED


def _binary_node(operator: str, left: Node, right: Node) -> Node:
    if operator == "&&":
        return lambda scope: _truthy(left(scope)) and _truthy(right(scope))
    if operator == "||":
        return lambda scope: _truthy(left(scope)) or _truthy(right(scope))
    if operator in ("==", "!="):
        negate = operator == "!="
        return lambda scope: _equal(left(scope), right(scope)) != negate
    return lambda scope: _arithmetic(operator, left(scope), right(scope))


def _equal(a: Any, b: Any) -> bool:
    if a is UNDEFINED or b is UNDEFINED:
        return False
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _arithmetic(operator: str, a: Any, b: Any) -> Any:
    if a is UNDEFINED or b is UNDEFINED:
        return UNDEFINED
    if operator == "+" and (isinstance(a, str) or isinstance(b, str)):
        return text_of(a) + text_of(b)
    if operator in ("<", "<=", ">", ">="):
        if not (_is_number(a) and _is_number(b)) and not (
            isinstance(a, str) and isinstance(b, str)
        ):
            raise ExpressionError(f"cannot compare {a!r} and {b!r}")
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[operator]
    if not (_is_number(a) and _is_number(b)):
        raise ExpressionError(f"{operator} needs numbers, not {a!r} and {b!r}")
    if operator in ("/", "%") and b == 0:
        raise ExpressionError("division by zero")
    if operator == "/":
        # Whole numbers divide to a whole number, as Adaptive Expressions' div does.
        return int(a / b) if isinstance(a, int) and isinstance(b, int) else a / b
    if operator == "%":
        return (
            math.fmod(a, b)
            if isinstance(a, float) or isinstance(b, float)
            else int(math.fmod(a, b))
        )
    return {"+": a + b, "-": a - b, "*": a * b}[operator]


def text_of(value: Any) -> str:
    """A value as text inside a string: true/false, whole floats without ".0", lists joined by
    commas, objects as JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(text_of(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


# --- functions ---------------------------------------------------------------------------------


def _apply(function: Callable[..., Any], arguments: list[Any]) -> Any:
    if any(a is UNDEFINED for a in arguments):
        return UNDEFINED
    try:
        return function(*arguments)
    except (TypeError, ValueError, IndexError, AttributeError) as error:
        raise ExpressionError(f"{getattr(function, '__name__', 'function')}: {error}") from None


def _if(scope: Scope, condition: Node, then: Node, otherwise: Node) -> Any:
    return then(scope) if _truthy(condition(scope)) else otherwise(scope)


def _exists(scope: Scope, value: Node) -> bool:
    found = value(scope)
    return found is not UNDEFINED and found is not None


def _empty(scope: Scope, value: Node) -> bool:
    found = value(scope)
    return (
        found is UNDEFINED or found is None or (isinstance(found, (str, list, dict)) and not found)
    )


def _and(scope: Scope, *values: Node) -> bool:
    return all(_truthy(v(scope)) for v in values)


def _or(scope: Scope, *values: Node) -> bool:
    return any(_truthy(v(scope)) for v in values)


def _not(scope: Scope, value: Node) -> bool:
    return not _truthy(value(scope))


def _equals(scope: Scope, a: Node, b: Node) -> bool:
    return _equal(a(scope), b(scope))


def _format_number(value: float, decimals: int) -> str:
    return f"{value:,.{int(decimals)}f}"


def _round(value: float, digits: int = 0) -> float:
    # Half away from zero, as JavaScript's Math.round for positive numbers, not banker's rounding.
    scale = 10 ** int(digits)
    rounded = math.floor(abs(value) * scale + 0.5) / scale
    rounded = math.copysign(rounded, value)
    return int(rounded) if int(digits) == 0 else rounded


def _count(value: str | list) -> int:
    if not isinstance(value, (str, list)):
        raise TypeError("count needs a string or a list")
    return len(value)


def _length(value: str) -> int:
    if not isinstance(value, str):
        raise TypeError("length needs a string")
    return len(value)


# Functions whose arguments may be undefined: they decide what undefined means.
_LAZY = frozenset({"if", "exists", "empty", "and", "or", "not", "equals"})
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "if": _if,
    "exists": _exists,
    "empty": _empty,
    "and": _and,
    "or": _or,
    "not": _not,
    "equals": _equals,
    "concat": lambda *values: "".join(text_of(v) for v in values),
    "length": _length,
    "count": _count,
    "toUpper": lambda text: text.upper(),
    "toLower": lambda text: text.lower(),
    "trim": lambda text: text.strip(),
    "string": text_of,
    "int": lambda value: int(float(value)),
    "float": float,
    "join": lambda values, separator: separator.join(text_of(v) for v in values),
    "first": lambda values: values[0] if values else None,
    "last": lambda values: values[-1] if values else None,
    "add": lambda a, b: _arithmetic("+", a, b),
    "sub": lambda a, b: _arithmetic("-", a, b),
    "mul": lambda a, b: _arithmetic("*", a, b),
    "div": lambda a, b: _arithmetic("/", a, b),
    "max": max,
    "min": min,
    "round": _round,
    "formatNumber": _format_number,
    "substring": lambda text, start, length=None: text[
        start : None if length is None else start + length
    ],
    "replace": lambda text, old, new: text.replace(old, new),
    "contains": lambda container, item: item in container,
    "startsWith": lambda text, prefix: text.startswith(prefix),
    "endsWith": lambda text, suffix: text.endswith(suffix),
    "indexOf": lambda text, part: text.find(part),
    "createArray": lambda *values: list(values),
}
