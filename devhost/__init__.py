"""Local development host for the function app: Azurite, app settings and a Functions-like runner.

Modules: `azurite` (the storage emulator as a child process), `settings` (local.settings.json),
`functions` (function.json discovery and loading), `routes` (HTTP route templates),
`httpbinding` (HTTP trigger/output conversion), `invoke` (running one invocation), `timers`
(NCRONTAB timer triggers), `queues` (Storage queue triggers), `host` (the aiohttp server),
`__main__` (the `python -m devhost` CLI).
"""
