"""The Teams app package: `make package BOT_ID=<guid>` fills appPackage/'s template and zips it,
and a manifest Teams would refuse fails the build (and `make lint`) naming the field: Microsoft's
schema for its manifestVersion, from @microsoft/app-manifest under Node.js, offline, and the
checks a schema cannot make.

Each test runs tools/app_package.py as `make package` and `make lint` do.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.png import solid_png

APP_ROOT = Path(__file__).resolve().parent.parent
TOOL = APP_ROOT / "tools" / "app_package.py"
BOT_ID = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
DOMAIN = "func-abc123.azurewebsites.net"


def run(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], **environment}
    return subprocess.run(
        [sys.executable, str(TOOL), *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def built_manifest(out: Path) -> dict:
    with zipfile.ZipFile(out / "appPackage.zip") as archive:
        return json.loads(archive.read("manifest.json"))


@pytest.fixture
def template(tmp_path: Path) -> Path:
    copy = tmp_path / "appPackage"
    shutil.copytree(APP_ROOT / "appPackage", copy, ignore=shutil.ignore_patterns("build"))
    return copy


def edit(template: Path, change: Callable[[dict], None]) -> None:
    path = template / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    change(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_the_package_holds_the_manifest_with_every_placeholder_filled_and_both_icons(tmp_path):
    result = run("build", "--out", str(tmp_path), BOT_ID=BOT_ID, BOT_DOMAIN=DOMAIN)

    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "appPackage.zip") as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        text = archive.read("manifest.json").decode()
    assert "{{" not in text
    manifest = json.loads(text)
    assert manifest["bots"][0]["botId"] == BOT_ID
    assert manifest["bots"][0]["scopes"] == ["personal", "team", "groupChat"]
    assert manifest["webApplicationInfo"]["id"] == BOT_ID
    assert manifest["validDomains"] == [DOMAIN]
    assert uuid.UUID(manifest["id"]) != uuid.UUID(BOT_ID)
    assert float(manifest["manifestVersion"]) >= 1.17


def test_rebuilding_for_the_same_bot_gives_the_same_app_and_the_same_bytes(tmp_path):
    run("build", "--out", str(tmp_path / "one"), BOT_ID=BOT_ID)
    run("build", "--out", str(tmp_path / "two"), BOT_ID=BOT_ID)
    other = run("build", "--out", str(tmp_path / "three"), BOT_ID=str(uuid.uuid4()))

    assert other.returncode == 0, other.stderr
    one, two = ((tmp_path / n / "appPackage.zip").read_bytes() for n in ("one", "two"))
    assert one == two
    assert built_manifest(tmp_path / "three")["id"] != built_manifest(tmp_path / "one")["id"]


def test_the_values_given_replace_the_defaults(tmp_path):
    app_id = str(uuid.uuid4())

    result = run(
        "build",
        "--out",
        str(tmp_path),
        BOT_ID=BOT_ID,
        TEAMS_APP_ID=app_id,
        APP_NAME="Alerts",
        APP_NAME_SUFFIX=" (local)",
        APP_VERSION="1.2.3",
    )

    assert result.returncode == 0, result.stderr
    manifest = built_manifest(tmp_path)
    assert (manifest["id"], manifest["version"]) == (app_id, "1.2.3")
    assert manifest["name"]["short"] == "Alerts (local)"


def test_without_a_domain_valid_domains_is_left_empty(tmp_path):
    result = run("build", "--out", str(tmp_path), BOT_ID=BOT_ID)

    assert result.returncode == 0, result.stderr
    assert built_manifest(tmp_path)["validDomains"] == []


def test_without_a_bot_id_nothing_is_built(tmp_path):
    result = run("build", "--out", str(tmp_path))

    assert result.returncode == 1
    assert "BOT_ID is not set" in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


def test_a_bot_id_that_is_no_guid_fails_naming_each_field_and_writes_nothing(tmp_path):
    result = run("build", "--out", str(tmp_path), BOT_ID="my-bot")

    assert result.returncode == 1
    assert "/bots/0/botId" in result.stderr
    assert "/webApplicationInfo/id" in result.stderr
    assert not (tmp_path / "appPackage.zip").exists()


def test_the_template_in_the_repository_passes_the_lint_check():
    result = run("check")

    assert result.returncode == 0, result.stderr


def test_a_built_package_can_be_checked_again(tmp_path):
    run("build", "--out", str(tmp_path), BOT_ID=BOT_ID)

    result = run("check", str(tmp_path / "appPackage.zip"))

    assert result.returncode == 0, result.stderr


def test_a_zip_without_a_manifest_fails(tmp_path):
    package = tmp_path / "appPackage.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app/manifest.json", "{}")

    result = run("check", str(package))

    assert result.returncode == 1
    assert "no manifest.json at the zip's root" in result.stderr


def _set(path: str, value: object) -> Callable[[dict], None]:
    """A change to the manifest: the value at a slash-separated path replaced."""

    def change(manifest: dict) -> None:
        *parents, last = path.split("/")
        node = manifest
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return change


BROKEN_MANIFESTS = {
    # What only the schema knows.
    "scope": (_set("bots/0/scopes", ["personal", "everywhere"]), "/bots/0/scopes/1 must be"),
    "short name": (_set("name/short", "N" * 31), "/name/short must NOT have more than 30"),
    "unknown field": (_set("bots/0/welcome", True), "/bots/0 must NOT have additional"),
    "no schema": (_set("manifestVersion", "1.18"), '/manifestVersion "1.18" has no schema'),
    # What the schema cannot say.
    "schema url": (
        _set("$schema", "https://developer.microsoft.com/json-schemas/teams/v1.17/x.json"),
        "/$schema: ",
    ),
    "placeholder": (_set("description/short", "About {{appName}}"), "placeholder {{appName}} left"),
    "nil id": (_set("id", "00000000-0000-0000-0000-000000000000"), "/id: the nil GUID"),
    "rsc app": (
        _set("webApplicationInfo/id", "6e8c4b0a-1f2d-4c3b-9a8e-7d6c5b4a3f2e"),
        "/webApplicationInfo/id: must be the bot's id",
    ),
    "scheme": (_set("validDomains", ["https://x.example.com"]), "/validDomains/0: "),
    "shared wildcard": (_set("validDomains", ["*.azurewebsites.net"]), "a wildcard over hosts"),
    "ip": (_set("validDomains", ["10.1.2.3"]), "/validDomains/0: '10.1.2.3' is an IP address"),
    "localhost": (_set("validDomains", ["localhost"]), "is not a public host name"),
    "twice": (_set("validDomains", ["a.example.com", "a.example.com"]), "/validDomains/1"),
}


@pytest.mark.parametrize(
    ("change", "expected"), BROKEN_MANIFESTS.values(), ids=BROKEN_MANIFESTS.keys()
)
def test_a_manifest_teams_would_refuse_fails_the_check_naming_the_field(template, change, expected):
    edit(template, change)

    result = run("check", "--template", str(template))

    assert result.returncode == 1
    assert expected in result.stderr


def test_a_placeholder_with_no_value_fails_naming_it(template):
    edit(template, _set("developer/name", "${{COMPANY}}"))

    result = run("check", "--template", str(template))

    assert result.returncode == 1
    assert "/developer/name: no value for ${{COMPANY}}" in result.stderr


ICONS = {
    "colour icon size": ("color.png", solid_png(96, (31, 111, 235, 255)), "is 96x96, Teams needs"),
    "outline size": ("outline.png", solid_png(192, (255, 255, 255, 0)), "is 192x192"),
    "outline opaque": ("outline.png", solid_png(32, (255, 255, 255, 255), 2), "no transparent"),
    "outline colour": ("outline.png", solid_png(32, (31, 111, 235, 128)), "white on transparent"),
    "not a png": ("color.png", b"GIF89a", "color.png is not a PNG"),
}


@pytest.mark.parametrize(("name", "data", "expected"), ICONS.values(), ids=ICONS.keys())
def test_an_icon_teams_would_refuse_fails_the_check(template, name, data, expected):
    (template / name).write_bytes(data)

    result = run("check", "--template", str(template))

    assert result.returncode == 1
    kind = "color" if name == "color.png" else "outline"
    assert f"/icons/{kind}: {name}" in result.stderr
    assert expected in result.stderr


def test_a_missing_icon_fails(template):
    (template / "outline.png").unlink()

    result = run("check", "--template", str(template))

    assert result.returncode == 1
    assert "/icons/outline: 'outline.png' is not a file of the package" in result.stderr
