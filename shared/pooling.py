"""How long an idle pooled connection is kept, for every HTTP client of the app.

Below the shortest keep-alive of the servers it talks to: Node's default, 5 s, is what Azurite
and many proxies keep an idle connection open for (Azure's front ends keep theirs for minutes).
A connection the server has closed first meets the next request with a reset.
"""

POOLED_IDLE_SECONDS = 4.0
