"""Which serviceUrls the app will store and send to."""

from __future__ import annotations

import pytest

from shared.channel.service_urls import ServiceUrlPolicy
from shared.settings import DEFAULT_ALLOWED_SERVICE_HOSTS

DEFAULT = ServiceUrlPolicy(DEFAULT_ALLOWED_SERVICE_HOSTS, allow_loopback=False)
EMULATOR = ServiceUrlPolicy(DEFAULT_ALLOWED_SERVICE_HOSTS, allow_loopback=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://smba.trafficmanager.net/amer/",
        "https://smba.trafficmanager.net/teams/",
        "https://webchat.botframework.com/",
        "https://europe.directline.botframework.com",
        "https://smba.infra.gcc.teams.microsoft.com/teams",
        "https://smba.infra.gov.teams.microsoft.us/teams",
        "https://SMBA.TrafficManager.net/emea/",
    ],
)
def test_bot_framework_and_teams_hosts_are_allowed_by_default(url):
    assert DEFAULT.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://smba.trafficmanager.net/amer/",  # not https
        "https://smba.trafficmanager.net.attacker.invalid/",
        "https://botframework.com.attacker.invalid/",
        "https://attacker.invalid/?x=smba.trafficmanager.net",
        "https://user:pw@smba.trafficmanager.net/",
        "https://evilbotframework.com/",
        "ftp://webchat.botframework.com/",
        "https://10.0.0.5/",
        "https://169.254.169.254/metadata",
        "https://smba.trafficmanager.net:99999/",
        "not a url",
        "",
        None,
        42,
    ],
)
def test_anything_else_is_refused(url):
    assert not DEFAULT.allows(url)
    assert not EMULATOR.allows(url)


@pytest.mark.parametrize(
    "url", ["http://localhost:3978/", "http://127.0.0.1:51234/amer/", "http://[::1]:9000/"]
)
def test_loopback_is_allowed_only_while_auth_is_off(url):
    assert EMULATOR.allows(url)
    assert not DEFAULT.allows(url)


def test_loopback_listed_explicitly_is_allowed_with_auth_on():
    policy = ServiceUrlPolicy(("127.0.0.1",), allow_loopback=False)

    assert policy.allows("http://127.0.0.1:8080/")
    assert not policy.allows("http://localhost:8080/")
