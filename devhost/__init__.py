"""Local development host for the function app: Azurite, app settings and a Functions-like runner.

Modules: `azurite` (the storage emulator as a child process), `settings` (local.settings.json),
`functions` (function.json discovery and loading), `routes` (HTTP route templates),
`httpbinding` (HTTP trigger/output conversion), `invoke` (running one invocation), `timers`
(NCRONTAB timer triggers), `queues` (Storage queue triggers), `host` (the aiohttp server),
`__main__` (the `python -m devhost` CLI).

One test knob, which the real host does not have: `DEVHOST_QUEUE_LEASE_SECONDS` shortens how long a
received queue message stays hidden (the host's lease is a fixed 10 minutes), so that a test can
kill a runner and see its messages come back within seconds.
"""
