"""Pure-Python bounded FIFO: the fallback when the C ring is unavailable.

Also holds the capacity check both backends share, so the two raise the same
errors for the same input.
"""

from __future__ import annotations

import operator
from collections import deque
from collections.abc import Sequence
from itertools import islice, repeat, starmap
from typing import Any

#: Largest capacity either backend accepts (matches RQ_MAX_CAPACITY in queue.h).
MAX_CAPACITY = 1 << 24


def check_capacity(capacity: int) -> int:
    """Return ``capacity`` as an int, or raise if it is no valid queue capacity."""
    if isinstance(capacity, bool):
        raise TypeError("queue capacity must be an int, got bool")
    try:
        cap = operator.index(capacity)
    except TypeError:
        raise TypeError(
            f"queue capacity must be an int, got {type(capacity).__name__}"
        ) from None
    if not 1 <= cap <= MAX_CAPACITY:
        raise ValueError(
            f"queue capacity must be between 1 and {MAX_CAPACITY}, got {cap}"
        )
    return cap


def check_start(start: int) -> None:
    """Reject a negative ``push_many`` start (slicing would count from the end)."""
    if start < 0:
        raise ValueError(f"push_many start must be >= 0, got {start}")


_NO_ARGS = ()


def claim(take: Any, k: int) -> list:
    """Pop up to ``k`` entries with ``take`` (a bound ``list.pop``), last first.

    Each ``pop`` is atomic, so concurrent producers never get the same entry;
    a slice plus ``del`` would be faster but is two steps another thread can
    come between.  The pops run in C (``starmap``), and ``list.extend`` keeps
    what it already got if another producer emptied the list first: the caller
    then sees fewer than ``k`` and pushes only that many.
    """
    got: list = []
    try:  # contextlib.suppress would cost more on this hot path
        got.extend(starmap(take, repeat(_NO_ARGS, k)))
    except IndexError:
        pass
    return got


def tail_of(items: Sequence, start: int, k: int) -> Any:
    """``items[start:start + k]`` without copying where that is easy."""
    if start == 0 and k >= len(items):
        return items
    if isinstance(items, (list, tuple)):
        return items[start : start + k]
    return islice(items, start, start + k)


class PyQueue:
    """Bounded FIFO (many producers, one consumer) in pure Python.

    Items live in a ``deque``.  Room is tracked by a list of tokens, one per
    free place: a producer takes a token (an atomic ``list.pop`` under the GIL)
    before appending, the consumer gives tokens back after removing items.  So
    producers in other threads can never overfill the queue, and
    ``len(q) + q.free() == q.capacity`` always holds.  Pops must come from one
    thread at a time.
    """

    __slots__ = (
        "capacity",
        "_items",
        "_room",
        "_append",
        "_extend",
        "_popleft",
        "_take",
        "_give",
        "_give_many",
    )

    def __init__(self, capacity: int) -> None:
        self.capacity: int = check_capacity(capacity)
        self._items: deque = deque()
        self._room: list = [None] * self.capacity
        # Bound methods cached once: each saves an attribute lookup per call.
        self._append = self._items.append
        self._extend = self._items.extend
        self._popleft = self._items.popleft
        self._take = self._room.pop
        self._give = self._room.append
        self._give_many = self._room.extend

    def try_push(self, item: Any) -> bool:
        """Append ``item``; return False (storing nothing) when the queue is full."""
        if not self._room:
            return False
        try:
            self._take()
        except IndexError:  # another producer thread took the last place
            return False
        self._append(item)
        return True

    def push_many(self, items: Sequence, start: int = 0) -> int:
        """Append ``items[start:]`` in order until full; return how many were pushed."""
        check_start(start)
        k = len(items) - start
        room = len(self._room)
        if k > room:
            k = room
        if k <= 0:
            return 0
        k = len(claim(self._take, k))
        if k:
            self._extend(tail_of(items, start, k))
        return k

    def pop_many(self, max_items: int) -> list:
        """Remove and return up to ``max_items`` oldest items, oldest first."""
        k = len(self._items)
        if max_items < k:
            k = max_items
        if k <= 0:
            return []
        # Only producers run concurrently, and they only add: k items are there.
        out = list(starmap(self._popleft, repeat(_NO_ARGS, k)))
        self._give_many(repeat(None, k))
        return out

    def pop(self) -> Any:
        """Remove and return the oldest item; ``IndexError`` when empty."""
        try:
            item = self._popleft()
        except IndexError:
            raise IndexError("pop from an empty queue") from None
        self._give(None)
        return item

    def clear(self) -> list:
        """Remove and return every item, oldest first."""
        return self.pop_many(self.capacity)

    def free(self) -> int:
        """How many more items fit right now."""
        return len(self._room)

    def __len__(self) -> int:
        return self.capacity - len(self._room)

    def __bool__(self) -> bool:
        return len(self._room) != self.capacity

    def __repr__(self) -> str:
        return f"PyQueue(capacity={self.capacity}, len={len(self)})"
