"""Bounded FIFO on the C MPSC ring of slot indices (cffi, API mode).

The ring only moves uint32 slot numbers.  Payloads live in a Python list (the
slab) indexed by slot; free slot numbers wait in a Python list.  A push takes a
free slot, stores the payload in the slab, then publishes the slot with one C
call: publishing is what makes the payload visible to the consumer.  A pop
gets slots back from C in FIFO order, reads and clears their slab entries (so
popped objects are not kept alive) and returns the slots to the free list.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from typing import Any

from ._pyqueue import check_capacity, check_start, claim, tail_of

try:
    from ._reflow_queue import ffi, lib
except ImportError as exc:  # not built, or built for another interpreter
    ffi = lib = None
    _IMPORT_ERROR: ImportError | None = exc
else:
    _IMPORT_ERROR = None

# array typecode for uint32_t: "I" everywhere that matters, "L" just in case.
_U32 = "I" if array("I").itemsize == 4 else "L"


def c_available() -> bool:
    """True when the compiled ``_reflow_queue`` extension imported fine."""
    return lib is not None


class CQueue:
    """Bounded FIFO (many producers, one consumer) backed by the C ring.

    Producers may call ``try_push``/``push_many`` from any thread; ``pop``,
    ``pop_many`` and ``clear`` must come from one thread at a time.  ``len``
    counts slots handed out to producers and not yet returned by the consumer,
    so ``len(q) + q.free() == q.capacity`` always holds; a push still being
    published by another thread already counts.
    """

    __slots__ = (
        "capacity",
        "_q",
        "_slab",
        "_free",
        "_out",
        "_out_view",
        "_take",
        "_give",
        "_give_many",
        "_c_push",
        "_c_push_many",
        "_c_pop",
        "_c_pop_many",
        "_from_buffer",
    )

    def __init__(self, capacity: int) -> None:
        cap = check_capacity(capacity)
        if lib is None:
            raise RuntimeError(
                f"the reflow C queue extension is not available: {_IMPORT_ERROR}"
            )
        q = lib.rq_new(cap)
        if q == ffi.NULL:
            raise MemoryError(f"cannot allocate a C queue of capacity {cap}")
        self.capacity: int = cap
        self._q = ffi.gc(q, lib.rq_free)
        self._slab: list = [None] * cap
        # Reversed so the first pushes use slots 0, 1, 2...: purely cosmetic.
        self._free: list[int] = list(range(cap - 1, -1, -1))
        # Consumer-only output buffer, allocated once.  It is an array.array
        # seen by C through from_buffer: slicing the array copies the popped
        # slots out as one memcpy, cheaper than converting through cffi.
        self._out = array(_U32, bytes(4 * cap))
        self._out_view = ffi.from_buffer("uint32_t[]", self._out)
        # Bound methods and C functions cached once: each saves a lookup per call.
        self._take = self._free.pop
        self._give = self._free.append
        self._give_many = self._free.extend
        self._c_push = lib.rq_try_push
        self._c_push_many = lib.rq_push_many
        self._c_pop = lib.rq_pop
        self._c_pop_many = lib.rq_pop_many
        self._from_buffer = ffi.from_buffer

    def try_push(self, item: Any) -> bool:
        """Append ``item``; return False (storing nothing) when the queue is full."""
        if not self._free:
            return False
        try:
            slot = self._take()
        except IndexError:  # another producer thread took the last slot
            return False
        self._slab[slot] = item
        if self._c_push(self._q, slot):
            return True
        # Unreachable: only `capacity` slots exist, so the ring cannot be full
        # for a producer holding one.  Undo rather than lose the slot.
        self._slab[slot] = None
        self._give(slot)
        return False

    def push_many(self, items: Sequence, start: int = 0) -> int:
        """Append ``items[start:]`` in order until full; return how many were pushed."""
        check_start(start)
        k = len(items) - start
        free = len(self._free)
        if k > free:
            k = free
        if k <= 0:
            return 0
        slots = claim(self._take, k)
        k = len(slots)
        if not k:
            return 0
        slab = self._slab
        # Store every payload before its slot is published.  Both sides have
        # k entries by construction.
        for slot, item in zip(slots, tail_of(items, start, k), strict=False):
            slab[slot] = item
        # A fresh array per call, so concurrent producers share no buffer;
        # array(list) plus from_buffer beats cffi's own list conversion.
        pushed = self._c_push_many(
            self._q, self._from_buffer("uint32_t[]", array(_U32, slots)), k
        )
        if pushed != k:  # unreachable, as in try_push
            for slot in slots[pushed:]:
                slab[slot] = None
            self._give_many(slots[pushed:])
        return pushed

    def pop_many(self, max_items: int) -> list:
        """Remove and return up to ``max_items`` oldest items, oldest first."""
        if max_items > self.capacity:
            max_items = self.capacity
        elif max_items <= 0:
            return []
        n = self._c_pop_many(self._q, self._out_view, max_items)
        if not n:
            return []
        slots = self._out[:n]
        slab = self._slab
        items = [slab[slot] for slot in slots]
        # Drop the slab's references so popped objects can be freed.
        for slot in slots:
            slab[slot] = None
        self._give_many(slots)
        return items

    def pop(self) -> Any:
        """Remove and return the oldest item; ``IndexError`` when empty."""
        slot = self._c_pop(self._q)
        if slot < 0:
            raise IndexError("pop from an empty queue")
        slab = self._slab
        item = slab[slot]
        slab[slot] = None
        self._give(slot)
        return item

    def clear(self) -> list:
        """Remove and return every item, oldest first."""
        return self.pop_many(self.capacity)

    def free(self) -> int:
        """How many more items fit right now."""
        return len(self._free)

    def __len__(self) -> int:
        return self.capacity - len(self._free)

    def __bool__(self) -> bool:
        return len(self._free) != self.capacity

    def __repr__(self) -> str:
        return f"CQueue(capacity={self.capacity}, len={len(self)})"
