"""App settings: `local.settings.json` applied the way Core Tools applies it, and `%NAME%`
references to app settings in function.json resolved the way the host resolves them.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LOCAL_SETTINGS = "local.settings.json"
_SETTING_REFERENCE = re.compile(r"%([^%]+)%")


class MissingSettingError(ValueError):
    """A `%NAME%` reference in function.json to an app setting that is not set."""


def read_local_settings(app_root: Path) -> dict[str, Any]:
    """The parsed `local.settings.json`, or an empty dict when there is none."""
    path = app_root / LOCAL_SETTINGS
    if not path.is_file():
        logger.info("No %s in %s: no app settings loaded", LOCAL_SETTINGS, app_root)
        return {}
    try:
        settings = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    if not isinstance(settings, dict):
        raise ValueError(f"{path} must hold a JSON object")
    return settings


def load_local_settings(
    app_root: Path, environ: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Read `local.settings.json` and apply its `Values` (see `apply_values`)."""
    return apply_values(read_local_settings(app_root), environ)


def apply_values(
    settings: dict[str, Any], environ: MutableMapping[str, str] | None = None
) -> dict[str, str]:
    """Copy `settings["Values"]` into `environ` (default `os.environ`); return what was applied.

    A variable already set in the environment wins over the file, as with `func start`: a shell
    or a test can override one setting without editing the file.
    """
    target = os.environ if environ is None else environ
    applied: dict[str, str] = {}
    for name, value in (settings.get("Values") or {}).items():
        if name in target:
            logger.info("Skipping '%s' from local settings: already set in the environment", name)
            continue
        # App settings are strings; JSON numbers and booleans keep their JSON spelling.
        text = value if isinstance(value, str) else json.dumps(value)
        target[name] = applied[name] = text
    logger.info("Loaded %d app settings from %s", len(applied), LOCAL_SETTINGS)
    return applied


def local_http_port(settings: dict[str, Any]) -> int | None:
    """`Host.LocalHttpPort` of parsed local settings: the port Core Tools listens on."""
    port = (settings.get("Host") or {}).get("LocalHttpPort")
    return int(port) if port else None


def resolve_setting_references(text: str, environ: Mapping[str, str], where: str) -> str:
    """`text` with every `%NAME%` replaced by the app setting NAME, as the host resolves them.

    `where` names the function.json property for the error, e.g. "Function 'tick': schedule".
    """

    def setting(reference: re.Match[str]) -> str:
        name = reference.group(1)
        if name not in environ:
            raise MissingSettingError(
                f"{where} refers to app setting '{name}', which is not set "
                "(add it to local.settings.json Values or the environment)"
            )
        return environ[name]

    return _SETTING_REFERENCE.sub(setting, text)
