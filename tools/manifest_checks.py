"""What a Teams app package must be, checked before anyone uploads it.

Microsoft's JSON schema for the manifest's `manifestVersion` (run by tools/validate_manifest.mjs
from the npm package @microsoft/app-manifest, offline), then what a schema cannot say: the icons'
sizes and transparency, real ids, no placeholder left, domains Teams will take, and the
webApplicationInfo that resource-specific consent is granted to being the bot's own. Each problem
names its field as a JSON pointer ("/bots/0/botId: ..."), as the schema's own messages do.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_CHECK = REPO_ROOT / "tools" / "validate_manifest.mjs"
GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
NIL_GUID = "00000000-0000-0000-0000-000000000000"
PLACEHOLDER = re.compile(r"\$?\{\{[^}]*\}\}")
# Teams' icon sizes: https://learn.microsoft.com/microsoftteams/platform/concepts/build-and-test/apps-package
ICON_SIZES = {"color": 192, "outline": 32}
HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# Suffixes shared by many owners: a wildcard over one reaches hosts that are not the app's.
SHARED_SUFFIXES = frozenset(
    {
        "azurewebsites.net",
        "azurestaticapps.net",
        "cloudapp.net",
        "cloudapp.azure.com",
        "devtunnels.ms",
        "ngrok.io",
        "ngrok-free.app",
        "onmicrosoft.com",
        "trafficmanager.net",
        "botframework.com",
        "windows.net",
    }
)


def problems(manifest_path: Path) -> list[str]:
    """Everything wrong with the manifest at `manifest_path` and the icons beside it."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return [
        *schema_problems(manifest_path),
        *placeholder_problems(manifest),
        *version_problems(manifest),
        *id_problems(manifest),
        *domain_problems(manifest),
        *icon_problems(manifest, manifest_path.parent),
    ]


def schema_problems(manifest_path: Path) -> list[str]:
    node = shutil.which("node")
    if node is None:
        return ["the schema check needs Node.js (node) on PATH"]
    done = subprocess.run(
        [node, str(SCHEMA_CHECK), str(manifest_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    if done.returncode not in (0, 1):
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [f"the schema check could not run (npm ci installs it): {detail}"]
    return done.stdout.splitlines()


def placeholder_problems(manifest: Any) -> Iterator[str]:
    for pointer, text in strings(manifest):
        for left in PLACEHOLDER.findall(text):
            yield f"{pointer}: placeholder {left} left unfilled"


def version_problems(manifest: dict) -> Iterator[str]:
    version = manifest.get("manifestVersion")
    schema = manifest.get("$schema", "")
    if schema and not schema.endswith(f"/v{version}/MicrosoftTeams.schema.json"):
        yield f"/$schema: {schema} is not the schema of manifestVersion {version}"


def id_problems(manifest: dict) -> Iterator[str]:
    ids = [("/id", manifest.get("id"))]
    ids += [
        (f"/bots/{n}/botId", bot.get("botId")) for n, bot in enumerate(manifest.get("bots", []))
    ]
    application = manifest.get("webApplicationInfo")
    if application is not None:
        ids.append(("/webApplicationInfo/id", application.get("id")))
    for pointer, value in ids:
        if not isinstance(value, str) or not GUID.fullmatch(value):
            yield f"{pointer}: {value!r} is not a GUID"
        elif value == NIL_GUID:
            yield f"{pointer}: the nil GUID is no app's id"
    # Resource-specific consent is granted to webApplicationInfo's app: for the bot to be sent
    # what it permits (read receipts), that app must be the bot.
    specific = manifest.get("authorization", {}).get("permissions", {}).get("resourceSpecific")
    bots = manifest.get("bots", [])
    if specific and bots:
        if application is None:
            yield "/webApplicationInfo: required with resource-specific permissions"
        elif application.get("id") != bots[0].get("botId"):
            yield "/webApplicationInfo/id: must be the bot's id (/bots/0/botId) to get its RSC"


def domain_problems(manifest: dict) -> Iterator[str]:
    seen = set()
    for n, domain in enumerate(manifest.get("validDomains", [])):
        pointer = f"/validDomains/{n}"
        problem = _domain_problem(domain)
        if problem:
            yield f"{pointer}: {domain!r} {problem}"
        elif domain.lower() in seen:
            yield f"{pointer}: {domain!r} is listed twice"
        seen.add(str(domain).lower())


def _domain_problem(domain: object) -> str | None:
    if not isinstance(domain, str) or not domain:
        return "is empty"
    if "://" in domain or "/" in domain:
        return "must be a host name alone, without scheme or path"
    host, _, port = domain.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        return "has no valid port"
    wildcard = host.startswith("*.")
    labels = (host[2:] if wildcard else host).split(".")
    if not all(HOST_LABEL.fullmatch(label) for label in labels) or host != host.lower():
        return "is not a lower-case host name"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return "is an IP address: Teams takes host names"
    if host == "localhost" or len(labels) < 2:
        return "is not a public host name"
    if wildcard and ".".join(labels) in SHARED_SUFFIXES:
        return "is a wildcard over hosts the app does not own"
    return None


def icon_problems(manifest: dict, folder: Path) -> Iterator[str]:
    for kind, size in ICON_SIZES.items():
        pointer = f"/icons/{kind}"
        name = manifest.get("icons", {}).get(kind)
        if not isinstance(name, str) or not (folder / name).is_file():
            yield f"{pointer}: {name!r} is not a file of the package"
            continue
        try:
            width, height, pixels = read_png((folder / name).read_bytes())
        except ValueError as error:
            yield f"{pointer}: {name} {error}"
            continue
        if (width, height) != (size, size):
            yield f"{pointer}: {name} is {width}x{height}, Teams needs {size}x{size}"
        elif kind == "outline":
            yield from _outline_problems(pointer, name, pixels)


def _outline_problems(
    pointer: str, name: str, pixels: list[tuple[int, int, int, int]]
) -> Iterator[str]:
    # Teams paints the outline icon itself: white where it is drawn, transparent elsewhere.
    if all(alpha == 255 for *_, alpha in pixels):
        yield f"{pointer}: {name} has no transparent background"
    if any(alpha and (r, g, b) != (255, 255, 255) for r, g, b, alpha in pixels):
        yield f"{pointer}: {name} must be white on transparent, and has other colours"


def read_png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """Width, height and RGBA pixels of an 8-bit RGB or RGBA, non-interlaced PNG."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("is not a PNG")
    chunks, offset = {}, 8
    while offset + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        chunks.setdefault(kind, []).append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    if b"IHDR" not in chunks or b"IDAT" not in chunks:
        raise ValueError("is not a complete PNG")
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError("must be an 8-bit RGB or RGBA PNG, not interlaced")
    channels = 4 if colour == 6 else 3
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = width * channels
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(kind, line, previous, channels)
        rows.append(line)
        previous = line
    pixels = []
    for line in rows:
        for x in range(width):
            px = line[x * channels : (x + 1) * channels]
            pixels.append((px[0], px[1], px[2], px[3] if channels == 4 else 255))
    return width, height, pixels


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> None:
    """Undo one row's PNG filter in place (the five filters of the PNG specification)."""
    for i in range(len(line)):
        left = line[i - step] if i >= step else 0
        up = previous[i]
        corner = previous[i - step] if i >= step else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            guess = left + up - corner
            nearest = min(
                (abs(guess - left), 0, left),
                (abs(guess - up), 1, up),
                (abs(guess - corner), 2, corner),
            )[2]
            line[i] = (line[i] + nearest) & 0xFF
        elif kind != 0:
            raise ValueError(f"has an unknown row filter {kind}")


def strings(value: Any, pointer: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, with its JSON pointer."""
    if isinstance(value, str):
        yield pointer, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{pointer}/{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from strings(item, f"{pointer}/{n}")
