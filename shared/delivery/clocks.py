"""The two spans every limit and expiry in delivery is measured against."""

from __future__ import annotations

# The channel's one second, and a hair for clock granularity. Jitter needs no margin: a send counts
# until its answer comes, and the channel sees it before that (see rate_limits.SlidingWindow).
WINDOW_SECONDS = 1.01
# How far apart the instances' wall clocks may be: membership rows expire by wall time, and a
# deletion is ordered against a fan-out's read by wall time.
CLOCK_SKEW_SECONDS = 1.0
