"""`make bench`: the delivery path against the stock SDK loop and the raw aiohttp floor."""
