"""A bad app setting is named at once: every HTTP function answers a JSON 500 saying which one."""

from __future__ import annotations

import pytest

from shared.app import reset_app
from tests.support.functions import cancel, get_status, get_targets, post_activity, post_notify

BAD_SCHEDULE = "9am"
ENTRY_POINTS = {
    "messages": lambda: post_activity({"type": "message", "text": "hi"}),
    "notify_http": lambda: post_notify({"text": "hello"}),
    "notify_status": lambda: get_status("0123456789abcdef"),
    "notify_targets": lambda: get_targets("0123456789abcdef"),
    "notify_cancel": lambda: cancel("0123456789abcdef"),
}


@pytest.fixture
async def misconfigured(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BROADCAST_SCHEDULE", BAD_SCHEDULE)
    await reset_app()
    yield
    await reset_app()


@pytest.mark.parametrize("function", sorted(ENTRY_POINTS))
async def test_every_http_function_answers_a_json_500_naming_a_malformed_setting(
    misconfigured, function
):
    response = await ENTRY_POINTS[function]()

    assert response.status == 500
    assert response.body["setting"] == "BROADCAST_SCHEDULE"
    assert BAD_SCHEDULE in response.body["detail"]


async def test_the_answer_names_an_unusable_storage_connection_string_but_not_its_secrets(
    app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("AzureWebJobsStorage", "AccountKey=c2VjcmV0LWtleQ==")
    await reset_app()
    try:
        response = await post_notify({"text": "hello"})
    finally:
        await reset_app()

    assert response.status == 500
    assert response.body["setting"] == "AzureWebJobsStorage"
    assert "c2VjcmV0LWtleQ==" not in str(response.body)


async def test_the_app_answers_again_once_the_setting_is_fixed(
    misconfigured, monkeypatch: pytest.MonkeyPatch
):
    assert (await get_status("0123456789abcdef")).status == 500

    monkeypatch.setenv("BROADCAST_SCHEDULE", "0 0 9 * * 1-5")

    assert (await get_status("0123456789abcdef")).status == 404
