"""Micro-benchmark of the inport queue backends (a script, not a test).

Prints one JSON line per configuration::

    {"bench": "queue", "impl": "c", "batch": 64, "items": 1000000, "ns_per_item": 41.2}

Each configuration moves ``items`` items through a queue of capacity 64 in
push/pop cycles: at batch 1 one ``try_push`` then one ``pop``; at batch 64 one
``push_many`` of 64 then one ``pop_many(64)``.  ``trio_channel`` is a
``trio.open_memory_channel(64)`` driven with ``send_nowait``/``receive_nowait``
inside ``trio.run`` (it has no batch calls, so batch 64 is 64 sends then 64
receives).  The best of ``--repeats`` runs is reported, as the least disturbed.

Run: ``python bench/queue_bench.py [--items N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial

import trio

from reflow_cli.native import CQueue, PyQueue, c_available

CAPACITY = 64


def _queue_batch1(cls: type, n: int) -> float:
    q = cls(CAPACITY)
    push, pop = q.try_push, q.pop
    item = object()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        push(item)
        pop()
    return time.perf_counter_ns() - t0


def _queue_batch64(cls: type, n: int) -> float:
    q = cls(CAPACITY)
    push_many, pop_many = q.push_many, q.pop_many
    batch = [object() for _ in range(64)]
    t0 = time.perf_counter_ns()
    for _ in range(n // 64):
        push_many(batch)
        pop_many(64)
    return time.perf_counter_ns() - t0


def _trio(n: int, batch: int) -> float:
    async def main() -> float:
        send, recv = trio.open_memory_channel(CAPACITY)
        put, get = send.send_nowait, recv.receive_nowait
        item = object()
        t0 = time.perf_counter_ns()
        if batch == 1:
            for _ in range(n):
                put(item)
                get()
        else:
            inner = range(batch)
            for _ in range(n // batch):
                for _ in inner:
                    put(item)
                for _ in inner:
                    get()
        return time.perf_counter_ns() - t0

    return trio.run(main)


def _best(run: Callable[[], float], repeats: int) -> float:
    return min(run() for _ in range(repeats))


def main() -> None:
    """Run every configuration and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n = args.items - args.items % 64  # whole batches, same count at every batch

    runs: list[tuple[str, int, Callable[[int], float]]] = []
    if c_available():
        runs += [
            ("c", 1, partial(_queue_batch1, CQueue)),
            ("c", 64, partial(_queue_batch64, CQueue)),
        ]
    runs += [
        ("python", 1, partial(_queue_batch1, PyQueue)),
        ("python", 64, partial(_queue_batch64, PyQueue)),
        ("trio_channel", 1, partial(_trio, batch=1)),
        ("trio_channel", 64, partial(_trio, batch=64)),
    ]
    for impl, batch, run in runs:
        ns = _best(partial(run, n), args.repeats)
        line = {
            "bench": "queue",
            "impl": impl,
            "batch": batch,
            "items": n,
            "ns_per_item": round(ns / n, 1),
        }
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
