"""Which outbound requests of a run get a CLIENT span.

A broadcast makes tens of thousands of identical requests: a span for each would cost more than
the send it describes, and the metrics count every one anyway. A run (an HTTP request or a work
item) keeps the spans of its first `keep_first` requests, then one in `keep_first`; a request the
service refused or never answered is always kept, as those are the ones worth reading.
"""

from __future__ import annotations


class RunSampling:
    def __init__(self, keep_first: int) -> None:
        self._keep_first = keep_first
        self._seen = 0

    def keeps(self, failed: bool) -> bool:
        self._seen += 1
        if failed:
            return True
        if self._keep_first <= 0:
            return False
        return self._seen <= self._keep_first or self._seen % self._keep_first == 0
