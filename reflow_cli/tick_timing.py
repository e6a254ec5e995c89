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
    """Collects the durations of one batch's ticks (cheap for the one-tick batches of a quiet graph)."""

    __slots__ = ("counts", "max_s")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}  # bucket index -> ticks; index len(BUCKET_BOUNDS): over the largest bound
        self.max_s = 0.0

    def add(self, seconds: float) -> None:
        """Count one tick that took ``seconds``."""
        index = bisect_left(BUCKET_BOUNDS, seconds)
        counts = self.counts
        counts[index] = counts.get(index, 0) + 1
        if seconds > self.max_s:
            self.max_s = seconds

    def fields(self) -> dict[str, object]:
        """``maxSeconds`` and ``histogram`` for a ``TickBatch`` event (the top bucket is bounded by the max).

        Nothing for a batch of one tick: its ``seconds`` already say it all.
        """
        counts = self.counts
        if len(counts) == 1 and next(iter(counts.values())) == 1:
            return {}
        top = len(BUCKET_BOUNDS)
        histogram = [[BUCKET_BOUNDS[i] if i < top else self.max_s, counts[i]] for i in sorted(counts)]
        return {"maxSeconds": self.max_s, "histogram": histogram}
