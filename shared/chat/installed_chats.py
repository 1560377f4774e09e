"""The 1:1 chats the app was installed into for a people audience, as their activities name them.

Installing the app for a person (see sending.people) opens their 1:1 with the bot; Graph names
it `19:…@unq.gbl.spaces`, and that id is the stored reference's. Teams' activities in the same
chat name it `a:…`. So for an activity in a personal chat, the person's indexed 1:1 (by their
Entra object id) is looked up: if it is such an installed chat under the other id, that stored
chat is the one this activity is in, for storing (no second reference), forgetting ("stop") and
the answers to its questions.
"""

from __future__ import annotations

from datetime import datetime, timezone

from botbuilder.schema import Activity

from shared.storage.personal_chats import PersonalChatIndex
from shared.storage.references import StoredReference
from shared.teams import PERSONAL, TEAMS, is_installed_chat


class InstalledChats:
    def __init__(self, chats: PersonalChatIndex) -> None:
        self._chats = chats

    async def of(self, activity: Activity) -> str | None:
        """The installed chat's stored id if the activity is in one under another id."""
        return await self.of_reference(
            StoredReference.from_activity(activity, datetime.now(timezone.utc))
        )

    async def of_reference(self, stored: StoredReference) -> str | None:
        person = (stored.reference_json.get("user") or {}).get("aadObjectId")
        if stored.channel_id != TEAMS or stored.conversation_type != PERSONAL or not person:
            return None
        chat = (await self._chats.lookup(stored.tenant_id, [person])).get(person)
        if chat is None or chat.conversation_id == stored.conversation_id:
            return None
        return chat.conversation_id if is_installed_chat(chat.conversation_id) else None
