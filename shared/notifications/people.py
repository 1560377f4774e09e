"""`to.groups` and people named by e-mail: an audience of an organisation's directory.

Such an audience is people, found in Microsoft Entra ID through Graph while the notification is
sent, not stored conversations: the transitive user members of up to MAX_GROUPS groups, and
people named in `to.userIds` by user principal name or e-mail address (anything with "@") or by
Entra object id. Each is reached one to one, the app installed for them where they have no 1:1
with the bot yet (see sending.people). The directory is one tenant's: `to.tenantIds` names it
(one id), else the bot's own (MicrosoftAppTenantId).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from shared.request_errors import field_error

GROUPS, USER_IDS, TENANT_IDS = "groups", "userIds", "tenantIds"
MAX_GROUPS = 20
MAX_NAMED_PEOPLE = 1000
MAX_NAME_LENGTH = 256
# A user principal name or e-mail address: no path, query or control characters in it, since it
# goes into a Graph URL.
_NAME = re.compile(r"[^@\s/?#%\\]+@[^@\s/?#%\\]+")


@dataclass(frozen=True)
class PeopleAudience:
    groups: tuple[str, ...]  # Entra group object ids
    people: tuple[str, ...]  # user principal names / e-mail addresses and Entra object ids
    tenant_id: str  # the directory; "" for the bot's own

    @property
    def sources(self) -> int:
        """Where people come from, one after another: each group, then the people named."""
        return len(self.groups) + (1 if self.people else 0)


def is_people_audience(to: Any) -> bool:
    """Whether `to` names people of a directory rather than stored conversations."""
    if not isinstance(to, dict):
        return False
    named = to.get(USER_IDS)
    by_name = isinstance(named, list) and any(isinstance(i, str) and "@" in i for i in named)
    return GROUPS in to or by_name


def parse_people(to: dict[str, Any]) -> PeopleAudience:
    others = sorted(set(to) - {GROUPS, USER_IDS, TENANT_IDS})
    if others:
        raise field_error(
            f"to.{others[0]}",
            "cannot be combined with to.groups or people named by e-mail (only userIds and one "
            "tenantIds can)",
        )
    groups = to.get(GROUPS, [])
    if GROUPS in to and (
        not isinstance(groups, list)
        or not 1 <= len(groups) <= MAX_GROUPS
        or not all(is_object_id(g) for g in groups)
    ):
        raise field_error("to.groups", f"must be a list of 1-{MAX_GROUPS} Entra group object ids")
    people = to.get(USER_IDS, [])
    if not isinstance(people, list) or not len(people) <= MAX_NAMED_PEOPLE:
        raise field_error("to.userIds", f"must be a list of at most {MAX_NAMED_PEOPLE} people")
    for person in people:
        if not (is_object_id(person) or _is_name(person)):
            raise field_error(
                "to.userIds",
                "with to.groups or e-mail addresses, must hold user principal names, e-mail "
                "addresses or Entra object ids",
            )
    tenants = to.get(TENANT_IDS, [])
    if not isinstance(tenants, list) or len(tenants) > 1 or not all(map(is_object_id, tenants)):
        raise field_error(
            "to.tenantIds", "with to.groups or e-mail addresses, names one tenant (its id)"
        )
    if not groups and not people:
        raise field_error("to.groups", "names nobody: give groups or userIds")
    return PeopleAudience(
        tuple(dict.fromkeys(g.lower() for g in groups)),
        tuple(dict.fromkeys(p.lower() if is_object_id(p) else p for p in people)),
        tenants[0].lower() if tenants else "",
    )


def is_object_id(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _is_name(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_NAME_LENGTH and bool(_NAME.fullmatch(value))
