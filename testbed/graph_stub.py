"""A loopback Microsoft Graph: the calls people audiences make, answered as Graph's docs show them,
and recorded.

- a group's transitive user members, paged with `@odata.nextLink` ($top, 100 by default, 999 at
  most), nested groups flattened, 404 `Request_ResourceNotFound` for a group that does not exist:
  https://learn.microsoft.com/en-us/graph/api/group-list-transitivemembers
- a user by id or userPrincipalName (`GET /users/{id | userPrincipalName}`), 404 when unknown:
  https://learn.microsoft.com/en-us/graph/api/user-get
- JSON batching (`POST /$batch`, at most 20 requests, each answered with its own status):
  https://learn.microsoft.com/en-us/graph/json-batching
- installing an app for a user (`POST /users/{id}/teamwork/installedApps`: 201 without a body,
  409 when it is installed already), listing a user's installations filtered by the app
  (`$filter=teamsApp/id eq '...'`) and the chat between the user and the app:
  https://learn.microsoft.com/en-us/graph/api/userteamwork-post-installedapps
  https://learn.microsoft.com/en-us/graph/api/userteamwork-list-installedapps
  https://learn.microsoft.com/en-us/graph/api/userscopeteamsappinstallation-get-chat
- throttling: 429 with Retry-After (https://learn.microsoft.com/en-us/graph/throttling).

`answer(key, ...)` makes the next calls about `key` fail: a group id for its member pages, a user
id (or name) for its lookup and its installation, "$batch" for the batch request itself.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from aiohttp import web

from testbed.loopback_server import LoopbackServer

DEFAULT_TOP, MAX_TOP = 100, 999
MAX_BATCH = 20
BOT_ID = "28:00000000-0000-0000-0000-0000000000b0"


@dataclass(frozen=True)
class GraphCall:
    method: str
    path: str  # after /v1.0, percent-decoded
    query: dict[str, str]
    body: dict | None
    authorization: str | None
    status: int
    at: float


@dataclass
class _Fault:
    status: int
    code: str
    message: str
    headers: dict[str, str]
    times: int | None


class GraphStub(LoopbackServer):
    def __init__(self, latency_seconds: float = 0.0) -> None:
        super().__init__()
        self.latency_seconds = latency_seconds
        self._users: dict[str, dict] = {}  # id -> user
        self._groups: dict[str, list[tuple[str, str]]] = {}  # id -> [("user"|"group", id)]
        self._installed: dict[str, dict[str, str]] = {}  # user id -> app id -> installation id
        self._faults: dict[str, list[_Fault]] = {}
        self._pages: dict[str, tuple[list[dict], int]] = {}  # skiptoken -> (members, offset)
        self._calls: list[GraphCall] = []
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """GRAPH_ENDPOINT for the app: the root, without the version."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def calls(self) -> list[GraphCall]:
        with self._lock:
            return list(self._calls)

    def add_user(self, user_id: str, upn: str = "") -> dict:
        user = {"id": user_id, "userPrincipalName": upn or f"{user_id}@contoso.example"}
        self._users[user_id] = user
        return user

    def add_group(self, group_id: str, users: Iterable[str] = (), groups: Iterable[str] = ()):
        members = [("user", u) for u in users] + [("group", g) for g in groups]
        self._groups[group_id] = members

    def install(self, user_id: str, app_id: str) -> None:
        """The app is installed for the user already (a 409 on the next install)."""
        self._installed.setdefault(user_id, {})[app_id] = f"inst-{uuid.uuid4().hex[:12]}"

    def installed(self, user_id: str) -> set[str]:
        return set(self._installed.get(user_id, {}))

    @staticmethod
    def chat_id(user_id: str) -> str:
        """The 1:1 chat between a user and the bot, shaped as Graph names it."""
        return f"19:{user_id}_{BOT_ID.split(':', 1)[1]}@unq.gbl.spaces"

    def answer(
        self,
        key: str,
        status: int,
        code: str = "",
        message: str = "",
        *,
        headers: dict[str, str] | None = None,
        times: int | None = 1,
    ) -> None:
        with self._lock:
            self._faults.setdefault(key, []).append(
                _Fault(status, code, message, headers or {}, times)
            )

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._faults.clear()

    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        path = unquote(request.rel_url.raw_path.split("?", 1)[0])
        query = {k: v[-1] for k, v in parse_qs(urlsplit(str(request.rel_url)).query).items()}
        body = await request.json() if request.can_read_body else None
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        status, answer, headers = self._answer(request.method, path, query, body)
        with self._lock:
            self._calls.append(
                GraphCall(
                    request.method,
                    path.removeprefix("/v1.0"),
                    query,
                    body,
                    request.headers.get("Authorization"),
                    status,
                    time.monotonic(),
                )
            )
        if answer is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(answer, status=status, headers=headers)

    def _answer(
        self, method: str, path: str, query: dict[str, str], body: dict | None
    ) -> tuple[int, dict | None, dict[str, str]]:
        if not path.startswith("/v1.0/"):
            return _error(404, "BadRequest", "Invalid version.")
        parts = path.removeprefix("/v1.0/").split("/")
        if parts == ["$batch"] and method == "POST":
            fault = self._fault("$batch")
            if fault is not None:
                return fault
            return self._batch(body or {})
        return self._one(method, parts, query, body)

    def _one(
        self, method: str, parts: list[str], query: dict[str, str], body: dict | None
    ) -> tuple[int, dict | None, dict[str, str]]:
        if (
            len(parts) == 4
            and parts[0] == "groups"
            and parts[2:] == ["transitiveMembers", "microsoft.graph.user"]
        ):
            return self._fault(parts[1]) or self._members(parts[1], query)
        if len(parts) == 2 and parts[0] == "users" and method == "GET":
            return self._fault(parts[1]) or self._user(parts[1])
        if len(parts) >= 4 and parts[0] == "users" and parts[2:4] == ["teamwork", "installedApps"]:
            user_id = parts[1]
            if method == "POST" and len(parts) == 4:
                return self._fault(user_id) or self._install(user_id, body or {})
            if method == "GET" and len(parts) == 4:
                return self._installations(user_id, query)
            if method == "GET" and len(parts) == 6 and parts[5] == "chat":
                return self._chat(user_id, parts[4])
        return _error(400, "BadRequest", f"Unsupported request: {method} /{'/'.join(parts)}")

    def _members(self, group_id: str, query: dict[str, str]):
        token = query.get("$skiptoken")
        if token is not None:
            if token not in self._pages:
                return _error(400, "Directory_ExpiredPageToken", "The page token expired.")
            members, offset = self._pages[token]
        else:
            if group_id not in self._groups:
                return _error(
                    404,
                    "Request_ResourceNotFound",
                    f"Resource '{group_id}' does not exist or one of its queried reference-"
                    "property objects are not present.",
                )
            members, offset = self._flatten(group_id), 0
        top = min(int(query.get("$top", DEFAULT_TOP)), MAX_TOP)
        selected = members[offset : offset + top]
        page: dict = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users(id,userPrincipalName)",
            "value": selected,
        }
        if offset + top < len(members):
            token = f"tok{next(self._tokens)}"
            self._pages[token] = (members, offset + top)
            page["@odata.nextLink"] = (
                f"{self.url}/v1.0/groups/{group_id}/transitiveMembers/microsoft.graph.user"
                f"?$select=id,userPrincipalName&$top={top}&$skiptoken={token}"
            )
        return 200, page, {}

    def _flatten(self, group_id: str) -> list[dict]:
        """Every user of the group and of the groups in it, each once."""
        seen_groups, users = set(), {}
        pending = [group_id]
        while pending:
            current = pending.pop(0)
            if current in seen_groups:
                continue
            seen_groups.add(current)
            for kind, member in self._groups.get(current, []):
                if kind == "group":
                    pending.append(member)
                elif member in self._users:
                    users.setdefault(member, self._users[member])
        return list(users.values())

    def _user(self, id_or_name: str):
        for user in self._users.values():
            if id_or_name in (user["id"], user["userPrincipalName"]):
                return 200, user, {}
        return _error(
            404,
            "Request_ResourceNotFound",
            f"Resource '{id_or_name}' does not exist or one of its queried reference-property "
            "objects are not present.",
        )

    def _batch(self, body: dict):
        requests = body.get("requests")
        if not isinstance(requests, list) or not 1 <= len(requests) <= MAX_BATCH:
            return _error(400, "BadRequest", f"A batch holds 1 to {MAX_BATCH} requests.")
        responses = []
        for request in requests:
            url = str(request.get("url", ""))
            parts = url.lstrip("/").split("?", 1)[0].split("/")
            if request.get("method") == "GET" and len(parts) == 2 and parts[0] == "users":
                status, answer, headers = self._fault(parts[1]) or self._user(unquote(parts[1]))
            else:
                status, answer, headers = _error(400, "BadRequest", "Unsupported in this stub.")
            responses.append(
                {"id": request.get("id"), "status": status, "headers": headers, "body": answer}
            )
        return 200, {"responses": responses}, {}

    def _install(self, user_id: str, body: dict):
        if user_id not in self._users:
            return _error(404, "NotFound", f"User {user_id} not found.")
        binding = str(body.get("teamsApp@odata.bind", ""))
        app_id = binding.rsplit("/", 1)[-1]
        if "/appCatalogs/teamsApps/" not in binding or not app_id:
            return _error(400, "BadRequest", "teamsApp@odata.bind is required.")
        if app_id in self._installed.get(user_id, {}):
            return _error(409, "Conflict", "App is already installed.")
        self.install(user_id, app_id)
        return 201, None, {}

    def _installations(self, user_id: str, query: dict[str, str]):
        wanted = query.get("$filter", "")
        installs = self._installed.get(user_id, {})
        value = [
            {"id": installation, "teamsApp": {"id": app_id, "distributionMethod": "organization"}}
            for app_id, installation in installs.items()
            if wanted in ("", f"teamsApp/id eq '{app_id}'")
        ]
        return 200, {"value": value}, {}

    def _chat(self, user_id: str, installation_id: str):
        if installation_id not in self._installed.get(user_id, {}).values():
            return _error(404, "NotFound", "Installation not found.")
        return 200, {"id": self.chat_id(user_id), "chatType": "oneOnOne"}, {}

    def _fault(self, key: str) -> tuple[int, dict | None, dict[str, str]] | None:
        with self._lock:
            faults = self._faults.get(key)
            if not faults:
                return None
            fault = faults[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    faults.pop(0)
        status, answer, _ = _error(fault.status, fault.code, fault.message)
        return status, answer, fault.headers


def _error(status: int, code: str, message: str) -> tuple[int, dict, dict[str, str]]:
    return status, {"error": {"code": code, "message": message}}, {}
