"""Which Bot Connector service URLs the app will store and send to."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost"})


class ServiceUrlPolicy:
    """Host patterns ("smba.trafficmanager.net", "*.botframework.com") a serviceUrl may point at.

    Loopback (the Emulator, local channel stubs) is allowed while inbound auth is off; with auth on
    it must be listed explicitly like any other host.
    """

    def __init__(self, host_patterns: tuple[str, ...], allow_loopback: bool) -> None:
        self._exact = frozenset(p for p in host_patterns if not p.startswith("*."))
        self._suffixes = tuple(p[1:] for p in host_patterns if p.startswith("*."))
        self._allow_loopback = allow_loopback

    def allows(self, service_url: object) -> bool:
        if not isinstance(service_url, str) or len(service_url) > 2048:
            return False
        try:
            parts = urlsplit(service_url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError:
            return False
        if not host or parts.username or parts.password:
            return False
        if _is_loopback(host):
            # Local stubs and the Emulator speak plain http; nothing leaves the machine.
            allowed = self._allow_loopback or self._listed(host)
            return allowed and parts.scheme in ("http", "https")
        return parts.scheme == "https" and self._listed(host)

    def _listed(self, host: str) -> bool:
        return host in self._exact or host.endswith(self._suffixes)


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
