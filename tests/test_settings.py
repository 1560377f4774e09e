"""Settings are read once, fail fast with the setting's name, and never print secrets."""

from __future__ import annotations

import pytest

from shared.app import App
from shared.settings import DEFAULT_ALLOWED_SERVICE_HOSTS, Settings, SettingsError

MINIMAL = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}


def test_defaults_apply_when_only_storage_is_set():
    settings = Settings.from_env(MINIMAL)

    assert settings.conversation_table == "ConversationReferences"
    assert settings.app_type == "MultiTenant"
    assert settings.allowed_service_hosts == DEFAULT_ALLOWED_SERVICE_HOSTS
    assert settings.auth_enabled is False
    assert (settings.notify_queue, settings.notify_inline_max_targets) == ("notify-work", 100)


def test_missing_storage_fails_naming_the_setting():
    with pytest.raises(SettingsError, match="AzureWebJobsStorage"):
        Settings.from_env({})


def test_an_unknown_app_type_fails_naming_the_setting():
    with pytest.raises(SettingsError, match="MicrosoftAppType"):
        Settings.from_env({**MINIMAL, "MicrosoftAppType": "Multi"})


def test_single_tenant_needs_a_tenant_id():
    env = {**MINIMAL, "MicrosoftAppId": "id", "MicrosoftAppType": "SingleTenant"}

    with pytest.raises(SettingsError, match="MicrosoftAppTenantId"):
        Settings.from_env(env)


@pytest.mark.parametrize("name", ["ab", "has-dash", "1starts", "x" * 64])
def test_an_invalid_table_name_fails_naming_the_setting(name):
    with pytest.raises(SettingsError, match="CONVERSATION_TABLE"):
        Settings.from_env({**MINIMAL, "CONVERSATION_TABLE": name})


@pytest.mark.parametrize(
    "name", ["ab", "Upper-case", "double--dash", "-starts", "ends-", "x" * 57, "has_underscore"]
)
def test_a_queue_name_the_host_would_refuse_fails_naming_the_setting(name):
    with pytest.raises(SettingsError, match="NOTIFY_QUEUE"):
        Settings.from_env({**MINIMAL, "NOTIFY_QUEUE": name})


def test_a_queue_name_leaves_room_for_its_poison_queue():
    longest = "q" * 56  # "-poison" makes 63, the longest queue name

    assert Settings.from_env({**MINIMAL, "NOTIFY_QUEUE": longest}).notify_queue == longest


@pytest.mark.parametrize("value", ["-1", "many", "1.5"])
def test_an_inline_limit_that_is_not_a_whole_number_from_0_fails_naming_it(value):
    with pytest.raises(SettingsError, match="NOTIFY_INLINE_MAX_TARGETS"):
        Settings.from_env({**MINIMAL, "NOTIFY_INLINE_MAX_TARGETS": value})


def test_allowed_service_urls_is_a_comma_separated_list_of_host_patterns():
    env = {**MINIMAL, "ALLOWED_SERVICE_URLS": " Example.com, *.bots.example.org ,"}

    assert Settings.from_env(env).allowed_service_hosts == ("example.com", "*.bots.example.org")


def test_the_settings_repr_leaves_out_the_password_and_storage_key():
    env = {
        "AzureWebJobsStorage": "AccountName=a;AccountKey=c2VjcmV0LWtleQ==",
        "MicrosoftAppId": "app-id",
        "MicrosoftAppPassword": "super-secret-password",
    }

    text = repr(Settings.from_env(env))

    assert "super-secret-password" not in text
    assert "c2VjcmV0LWtleQ==" not in text
    assert "app-id" in text


@pytest.mark.parametrize("schedule", ["0 9 * * *", "0 0 25 * * *", "every day"])
def test_a_broadcast_schedule_that_is_not_six_field_ncrontab_fails_naming_the_setting(schedule):
    with pytest.raises(SettingsError, match="BROADCAST_SCHEDULE"):
        Settings.from_env({**MINIMAL, "BROADCAST_SCHEDULE": schedule})


def test_a_six_field_broadcast_schedule_is_accepted():
    settings = Settings.from_env({**MINIMAL, "BROADCAST_SCHEDULE": "0 30 9 * * 1-5"})

    assert App.create(settings).settings.broadcast_schedule == "0 30 9 * * 1-5"
