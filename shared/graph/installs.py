"""The app installed for a person who has no 1:1 with the bot, and the chat that gives it.

Installing a Teams app for a user (personal scope) opens the 1:1 chat between them and the
bot; Graph then names it, and the Bot Connector takes that chat id as the conversation to send
to. Three calls, each within the tenant's Graph budget: the install (201, or 409 when the app is
installed already, which is as good), the installation found by the app's catalog id, its chat.
Needs `TeamsAppInstallation.ReadWriteSelfForUser.All` (the app installing itself) consented.
"""

from __future__ import annotations

from urllib.parse import quote

from shared.graph.client import GraphClient, GraphError


class AppInstaller:
    def __init__(self, graph: GraphClient, graph_endpoint: str, teams_app_id: str) -> None:
        """`teams_app_id`: the app's id in the organisation's app catalog (TEAMS_APP_ID)."""
        self._graph = graph
        self._app_id = teams_app_id
        self._binding = f"{graph_endpoint}/v1.0/appCatalogs/teamsApps/{teams_app_id}"

    async def chat_with(self, tenant_id: str, user_id: str) -> str:
        """The id of the chat between the user (an Entra object id) and the bot, the app
        installed for them first if it was not. GraphError when Graph refuses (403 for an app
        blocked by a permission policy, 404 for a user it does not know)."""
        installed_apps = f"users/{user_id}/teamwork/installedApps"
        try:
            await self._graph.post(
                tenant_id, installed_apps, {"teamsApp@odata.bind": self._binding}
            )
        except GraphError as error:
            if error.status != 409:  # 409: installed already
                raise
        installations, _ = await self._graph.page(
            tenant_id,
            installed_apps,
            {"$expand": "teamsApp", "$filter": f"teamsApp/id eq '{self._app_id}'"},
        )
        if not installations or not isinstance(installations[0].get("id"), str):
            raise GraphError(404, "InstallationNotFound", "the app's installation was not listed")
        installation = quote(installations[0]["id"], safe="=")
        chat = await self._graph.get(tenant_id, f"{installed_apps}/{installation}/chat")
        chat_id = chat.get("id")
        if not isinstance(chat_id, str) or not chat_id:
            raise GraphError(404, "ChatNotFound", "the installation named no chat")
        return chat_id
