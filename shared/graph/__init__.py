"""Microsoft Graph: who is in a group, who an e-mail address is, and installing the app for a
person, over the app's own aiohttp (see client for why not msgraph-sdk).

tokens    the bot's own Graph token per tenant, from botbuilder's credentials (none with auth off)
client    GET, POST, pages and $batch, within a per-tenant budget, 429/503 waited out
installs  the app installed for a person, and the 1:1 chat that install gives the bot
"""
