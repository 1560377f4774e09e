"""infra/ sets every app setting the README lists, keeps secrets out of deployment outputs and
app settings, and is checked statically: tools/check_bicep.py fails on Bicep that does not parse,
on a failed checkov check and on a skip without a reason, and passes on infra/ as it is.

checkov lives in the lint venv (its pins conflict with requirements-dev.txt), so the checker
tests run it there as `make lint` does; `make lint` creates it, and CI runs it before the tests.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shared.app import reset_app
from shared.settings import DEFAULT_WELCOME_TEXT
from tests.support.functions import post_notify

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
    "OTEL_EXPORTER_OTLP_ENDPOINT": "a collector of one's own; deployed, it sends to its component",
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


def bicep(name: str) -> str:
    return (APP_ROOT / "infra" / name).read_text(encoding="utf-8")


def app_settings_block() -> str:
    return bicep("app.bicep").split("appSettings: [", 1)[1].split("\n      ]", 1)[0]


def deployed_settings() -> set[str]:
    return set(re.findall(r"name: '([^']+)'", app_settings_block()))


def deployed_value(setting: str) -> str:
    """The Bicep expression an app setting is given."""
    block = app_settings_block().split(f"name: '{setting}'", 1)[1]
    return re.search(r"value: (.+)", block).group(1)


def test_the_deployment_sets_every_setting_the_readme_lists():
    missing = readme_settings() - set(NOT_DEPLOYED) - deployed_settings()

    assert missing == set()


def test_the_settings_it_leaves_unset_are_still_in_the_readme():
    assert set(NOT_DEPLOYED) <= readme_settings()


def test_the_deployed_greeting_is_the_apps_own_default():
    default = re.search(r"param welcomeText string = '((?:[^'\\]|\\.)*)'", bicep("main.bicep"))

    assert re.sub(r"\\(.)", r"\1", default.group(1)) == DEFAULT_WELCOME_TEXT


def test_the_instance_limit_is_bounded_as_flex_consumption_allows():
    declaration = bicep("main.bicep").split("param maximumInstanceCount", 1)[0].rsplit("\n\n", 1)[1]

    assert "@minValue(40)" in declaration
    assert "@maxValue(1000)" in declaration


def test_no_deployment_output_reads_a_key_or_a_secure_parameter():
    for name in ("main.bicep", "app.bicep"):
        text = bicep(name)
        secure = re.findall(r"@secure\(\)\s*(?:@description\(.*\)\s*)?param (\w+)", text)
        outputs = [line for line in text.splitlines() if line.startswith("output ")]
        assert outputs, name
        for line in outputs:
            assert not re.search(r"\blist\w*\(", line), line  # listKeys, listSecrets, ...
            assert not any(re.search(rf"\b{param}\b", line) for param in secure), line


def test_the_webhook_secret_is_read_from_key_vault_by_the_apps_identity():
    app = bicep("app.bicep")

    assert "@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/" in deployed_value(
        "NOTIFY_WEBHOOK_SECRET"
    )
    assert "enableRbacAuthorization: true" in app
    assert "keyVaultReferenceIdentity: identity.id" in app
    role = app.split("resource vaultRole ", 1)[1].split("\n}\n", 1)[0]
    assert "scope: vault" in role
    assert "keyVaultSecretsUser" in role
    assert "identity.properties.principalId" in role
    assert "vaultRole" in app.split("resource functionApp ", 1)[1].split("dependsOn: [", 1)[1]


async def test_a_key_vault_reference_the_platform_did_not_resolve_is_refused_naming_the_setting(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    # What the app sees before the identity's role on the vault applies, minutes after `azd up`.
    reference = "@Microsoft.KeyVault(SecretUri=https://kv-abc.vault.azure.net/secrets/s/)"
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", reference)
    await reset_app()
    try:
        response = await post_notify({"text": "unsigned"})
    finally:
        await reset_app()

    assert response.status == 500
    assert response.body["setting"] == "NOTIFY_WEBHOOK_SECRET"
    assert "Key Vault reference" in response.body["detail"]


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
