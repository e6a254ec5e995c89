"""Per-tick times for ``TickBatch`` events: a log-scale histogram and the slowest tick (engine and trace summary).

Only while someone subscribes to events (a trace, ``net.events()``) does a
node time each tick; a ``TickBatch`` then carries, beside the batch's total
``seconds``, ``maxSeconds`` (its slowest tick) and ``histogram``: pairs
``[upper bound in s, ticks]`` on a 1-2-5 scale from 1 µs, only the buckets
that have ticks. ``reflow trace summary`` reads them for tick-latency
percentiles that a single slow tick in a fast batch cannot hide in.
"""

from __future__ import annotations

from bisect import bisect_left

__all__ = ["BUCKET_BOUNDS", "TickTimer"]

#: Upper bounds (seconds) of the histogram's buckets: 1 µs, 2 µs, 5 µs, 10 µs ... 500 s.
BUCKET_BOUNDS: tuple[float, ...] = tuple(float(f"{m}e{e}") for e in range(-6, 3) for m in (1, 2, 5))


class TickTimer:
    """Collects the durations of one batch's ticks."""

    __slots__ = ("counts", "max_s")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKET_BOUNDS) + 1)  # the last one: over the largest bound
        self.max_s = 0.0

    def add(self, seconds: float) -> None:
        """Count one tick that took ``seconds``."""
        self.counts[bisect_left(BUCKET_BOUNDS, seconds)] += 1
        if seconds > self.max_s:
            self.max_s = seconds

    def fields(self) -> dict[str, object]:
        """``maxSeconds`` and ``histogram`` for a ``TickBatch`` event (the top bucket is bounded by the max)."""
        bounds = (*BUCKET_BOUNDS, self.max_s)
        histogram = [[bounds[i], count] for i, count in enumerate(self.counts) if count]
        return {"maxSeconds": self.max_s, "histogram": histogram}
