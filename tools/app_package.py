"""The Teams app package: appPackage/manifest.json with its ${{NAME}} placeholders filled, checked
(tools/manifest_checks.py) and zipped with its two icons, as Teams uploads it.

    python tools/app_package.py build [--template DIR] [--out DIR]
        values from the environment (`make package BOT_ID=<guid>`, the azd postprovision hook);
        writes DIR/manifest.json and DIR/appPackage.zip (default appPackage/build/), and nothing
        if a check fails
    python tools/app_package.py check [ZIP]
        checks a built package; without ZIP, builds the template with example values (make lint)

Placeholders, as the Microsoft 365 Agents Toolkit writes them in its appPackage templates:

    BOT_ID           the bot's Microsoft App ID (MicrosoftAppId: the identity's client id); required
    TEAMS_APP_ID     the app's own id; default: derived from BOT_ID, so rebuilding the same bot's
                     package gives the same app, which Teams updates instead of adding another
    APP_NAME         default "Notifications"; APP_NAME_SUFFIX (e.g. " (local)") is appended
    APP_VERSION      default 1.0.0; raise it for each update uploaded to an organisation's catalog
    BOT_DOMAIN       the messaging endpoint's host; empty: left out of validDomains

Exit 1 with one line per problem, each naming its field.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any

from manifest_checks import problems

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "appPackage"
BUILD = TEMPLATE / "build"
PACKAGE = "appPackage.zip"
PLACEHOLDER = re.compile(r"\$\{\{([A-Z0-9_]+)\}\}")
# TEAMS_APP_ID is this namespace's UUID of the bot id: one app per bot, stable across builds.
APP_ID_NAMESPACE = uuid.UUID("6f0e4a52-3c7b-4d2e-9a51-8b1d2c3e4f50")
DEFAULTS = {"APP_NAME": "Notifications", "APP_NAME_SUFFIX": "", "APP_VERSION": "1.0.0"}
OPTIONAL = ("BOT_DOMAIN",)
# `check` without a package: values shaped like a real deployment's.
EXAMPLE = {
    "BOT_ID": "3f2b8c1e-7d4a-4e9b-a6c5-0d1e2f3a4b5c",
    "BOT_DOMAIN": "func-example.azurewebsites.net",
}
# Zip entries get this fixed time, so the same inputs give the same bytes.
ZIP_TIME = (2025, 1, 1, 0, 0, 0)


class PackageError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def values_from(environ: dict[str, str]) -> dict[str, str]:
    """The placeholders' values: the environment's, else the defaults; BOT_ID must be there."""
    # Names keep their spaces (APP_NAME_SUFFIX=" (local)"); ids and hosts do not.
    values = {name: environ.get(name, default) for name, default in DEFAULTS.items()}
    values.update({name: environ.get(name, "").strip() for name in OPTIONAL})
    bot_id = environ.get("BOT_ID", "").strip()
    if not bot_id:
        raise PackageError(
            ["BOT_ID is not set: the bot's Microsoft App ID (make package BOT_ID=<guid>)"]
        )
    values["BOT_ID"] = bot_id
    values["TEAMS_APP_ID"] = environ.get("TEAMS_APP_ID", "").strip() or _app_id(bot_id)
    return values


def _app_id(bot_id: str) -> str:
    return str(uuid.uuid5(APP_ID_NAMESPACE, bot_id.lower()))


def filled(template: Any, values: dict[str, str], pointer: str = "") -> Any:
    """The template with every ${{NAME}} replaced; a list item that is one placeholder whose value
    is empty is left out (validDomains without BOT_DOMAIN)."""
    if isinstance(template, str):
        missing = [n for n in PLACEHOLDER.findall(template) if n not in values]
        if missing:
            raise PackageError([f"{pointer}: no value for ${{{{{missing[0]}}}}}"])
        return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    if isinstance(template, dict):
        return {k: filled(v, values, f"{pointer}/{k}") for k, v in template.items()}
    if isinstance(template, list):
        items = [(n, v) for n, v in enumerate(template) if not _empty_placeholder(v, values)]
        return [filled(v, values, f"{pointer}/{n}") for n, v in items]
    return template


def _empty_placeholder(item: Any, values: dict[str, str]) -> bool:
    match = PLACEHOLDER.fullmatch(item) if isinstance(item, str) else None
    return match is not None and values.get(match.group(1)) == ""


def build(template_dir: Path, out_dir: Path, values: dict[str, str]) -> Path:
    """Fill, check and zip; the zip's path. Raises PackageError, writing nothing, on any problem."""
    template = json.loads((template_dir / "manifest.json").read_text(encoding="utf-8"))
    manifest = filled(template, values)
    icons = [manifest.get("icons", {}).get(kind) for kind in ("color", "outline")]
    with tempfile.TemporaryDirectory() as staging:
        staged = Path(staging)
        (staged / "manifest.json").write_text(
            json.dumps(manifest, indent=2) + "\n", encoding="utf-8"
        )
        for icon in icons:
            if isinstance(icon, str) and (template_dir / icon).is_file():
                (staged / icon).write_bytes((template_dir / icon).read_bytes())
        found = problems(staged / "manifest.json")
        if found:
            raise PackageError(found)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "manifest.json").write_bytes((staged / "manifest.json").read_bytes())
        package = out_dir / PACKAGE
        with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as archive:
            # Teams reads the three files from the zip's root.
            for name in ["manifest.json", *icons]:
                archive.writestr(zipfile.ZipInfo(name, ZIP_TIME), (staged / name).read_bytes())
    return package


def check_package(package: Path) -> list[str]:
    with tempfile.TemporaryDirectory() as unpacked, zipfile.ZipFile(package) as archive:
        if "manifest.json" not in archive.namelist():
            return [f"{package}: no manifest.json at the zip's root"]
        archive.extractall(unpacked)
        return problems(Path(unpacked) / "manifest.json")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    build_verb = verbs.add_parser("build")
    build_verb.add_argument("--template", type=Path, default=TEMPLATE)
    build_verb.add_argument("--out", type=Path, default=BUILD)
    check_verb = verbs.add_parser("check")
    check_verb.add_argument("package", type=Path, nargs="?")
    check_verb.add_argument("--template", type=Path, default=TEMPLATE)
    arguments = parser.parse_args(argv)
    try:
        if arguments.verb == "build":
            package = build(arguments.template, arguments.out, values_from(dict(os.environ)))
            print(f"{package}: ready to upload to Teams")
        elif arguments.package is not None:
            found = check_package(arguments.package)
            if found:
                raise PackageError(found)
            print(f"{arguments.package}: no problems")
        else:
            with tempfile.TemporaryDirectory() as out:
                build(arguments.template, Path(out), values_from(EXAMPLE))
            print(f"{arguments.template / 'manifest.json'}: no problems")
    except PackageError as error:
        print("The Teams app package has problems:", *error.problems, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
