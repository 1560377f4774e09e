"""HTTP route templates as the Functions host reads them (ASP.NET Core route syntax, subset).

Supported: literal segments, `{name}`, optional `{name?}`, defaults `{name=value}`, catch-all
`{*name}`, and constraints `{id:int}`, which are accepted but not checked. Matching is
case-insensitive and tolerates a trailing slash, like ASP.NET Core routing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_TOKEN = re.compile(r"\{([^{}]*)\}")
_PARAMETER = re.compile(
    r"^(?P<catch_all>\*{0,2})(?P<name>[A-Za-z_][\w]*)(?::[^=?]*)?"
    r"(?:=(?P<default>[^?]*))?(?P<optional>\?)?$"
)


@dataclass(frozen=True)
class RouteTemplate:
    template: str
    pattern: re.Pattern[str]
    # Route parameter name → regex group name (route names need not be identifiers).
    groups: dict[str, str]
    defaults: dict[str, str]
    literal_segments: int

    def match(self, raw_path: str) -> dict[str, str] | None:
        """Route parameters (URL-decoded) when `raw_path` matches, else None."""
        found = self.pattern.fullmatch(raw_path)
        if found is None:
            return None
        params = dict(self.defaults)
        for name, group in self.groups.items():
            value = found.group(group)
            if value is not None:
                params[name] = unquote(value)
        return params

    @property
    def precedence(self) -> tuple[int, int, str]:
        """Sort key: more literal segments first, then fewer parameters (like ASP.NET)."""
        return (-self.literal_segments, len(self.groups), self.template.lower())


def compile_route(template: str) -> RouteTemplate:
    """Compile a full route (prefix included, e.g. `api/items/{id?}`) to a path matcher."""
    groups: dict[str, str] = {}
    defaults: dict[str, str] = {}
    literal_segments = 0
    pattern = ""

    def parameter(token: str) -> tuple[str, bool, bool]:
        parsed = _PARAMETER.match(token.strip())
        if parsed is None:
            raise ValueError(f"Route {template!r}: cannot read parameter {{{token}}}")
        name = parsed["name"]
        if name in groups:
            raise ValueError(f"Route {template!r}: parameter {name!r} appears twice")
        groups[name] = f"p{len(groups)}"
        if parsed["default"] is not None:
            defaults[name] = parsed["default"]
        optional = bool(parsed["optional"]) or parsed["default"] is not None
        return name, optional, bool(parsed["catch_all"])

    for segment in (s for s in template.strip("/").split("/") if s):
        whole = _TOKEN.fullmatch(segment)
        if whole:
            name, optional, catch_all = parameter(whole.group(1))
            value = ".*" if catch_all else "[^/]+"
            # A catch-all also matches nothing, in ASP.NET even without `?`.
            if optional or catch_all:
                pattern += f"(?:/(?P<{groups[name]}>{value}))?"
            else:
                pattern += f"/(?P<{groups[name]}>{value})"
            continue
        if not _TOKEN.search(segment):
            literal_segments += 1
        pattern += "/"
        position = 0
        for token in _TOKEN.finditer(segment):
            pattern += re.escape(segment[position : token.start()])
            name, _, _ = parameter(token.group(1))
            pattern += f"(?P<{groups[name]}>[^/]+?)"
            position = token.end()
        pattern += re.escape(segment[position:])
    return RouteTemplate(
        template=template,
        pattern=re.compile(pattern + "/?", re.IGNORECASE),
        groups=groups,
        defaults=defaults,
        literal_segments=literal_segments,
    )


def full_route(route_prefix: str, route: str) -> str:
    """`routePrefix` and a function's route joined the way the host does."""
    return "/".join(part.strip("/") for part in (route_prefix, route) if part.strip("/"))
