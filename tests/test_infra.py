"""infra/ sets every app setting the README lists, and is checked statically:
tools/check_bicep.py fails on Bicep that does not parse, on a failed checkov check and on a skip
without a reason, and passes on infra/ as it is.

checkov lives in the lint venv (its pins conflict with requirements-dev.txt), so the checker
tests run it there as `make lint` does; `make lint` creates it, and CI runs it before the tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

APP_ROOT = Path(__file__).resolve().parent.parent
LINT_PYTHON = APP_ROOT / ".venv-lint" / "bin" / "python"
CHECKER = APP_ROOT / "tools" / "check_bicep.py"

needs_checkov = pytest.mark.skipif(
    not LINT_PYTHON.exists(), reason="needs the lint venv with checkov: run `make lint` once"
)

# README settings the deployment leaves unset, and why.
NOT_DEPLOYED = {
    "AzureWebJobsStorage": "a connection string carries a key; the deployment is keyless",
    "AzureWebJobsStorage__tableServiceUri": "instead of __accountName, for another cloud",
    "AzureWebJobsStorage__queueServiceUri": "instead of __accountName, for another cloud",
}


def readme_settings() -> set[str]:
    """Every name in the first column of README's settings table (`__x` after a full name
    extends that name's prefix, as in `AzureWebJobsStorage__credential`, `__clientId`)."""
    readme = (APP_ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names = set()
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        cell = row.split("|")[1]
        prefix = ""
        for name in re.findall(r"`([^`]+)`", cell):
            if name.startswith("__"):
                name = prefix + name
            else:
                prefix = name.split("__")[0]
            names.add(name)
    return names


def deployed_settings() -> set[str]:
    bicep = (APP_ROOT / "infra" / "app.bicep").read_text(encoding="utf-8")
    block = bicep.split("appSettings: [", 1)[1].split("\n      ]", 1)[0]
    return set(re.findall(r"name: '([^']+)'", block))


def test_the_deployment_sets_every_setting_the_readme_lists():
    missing = readme_settings() - set(NOT_DEPLOYED) - deployed_settings()

    assert missing == set()


def test_the_settings_it_leaves_unset_are_still_in_the_readme():
    assert set(NOT_DEPLOYED) <= readme_settings()


def check(directory: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_PYTHON), str(CHECKER), str(directory)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def infra_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "infra"
    shutil.copytree(APP_ROOT / "infra", copy)
    return copy


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


@needs_checkov
def test_the_infra_directory_passes():
    result = check(APP_ROOT / "infra")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout


@needs_checkov
def test_a_syntax_error_fails_naming_the_file(infra_copy):
    replace_once(infra_copy / "app.bicep", "resource bot ", "resourc bot ")

    result = check(infra_copy)

    assert result.returncode == 1
    assert "does not parse" in result.stderr
    assert "app.bicep" in result.stderr


@needs_checkov
def test_a_failed_check_fails(infra_copy):
    app = infra_copy / "app.bicep"
    line = next(ln for ln in app.read_text().splitlines() if "checkov:skip=CKV_AZURE_78" in ln)
    replace_once(app, line + "\n", "")

    result = check(infra_copy)

    assert result.returncode == 1
    assert "CKV_AZURE_78" in result.stdout


@needs_checkov
def test_a_skip_without_a_reason_fails(infra_copy):
    app = infra_copy / "app.bicep"
    line = next(ln for ln in app.read_text().splitlines() if "checkov:skip=CKV_AZURE_78" in ln)
    replace_once(app, line, "  // checkov:skip=CKV_AZURE_78")

    result = check(infra_copy)

    assert result.returncode == 1
    assert "without a reason" in result.stderr
    assert "CKV_AZURE_78" in result.stderr


@needs_checkov
def test_a_directory_without_bicep_fails(tmp_path):
    result = check(tmp_path)

    assert result.returncode == 1
    assert "no .bicep files" in result.stderr
