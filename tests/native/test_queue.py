"""Tests of the bounded inport FIFO: the C ring wrapper and the Python fallback.

Every behavioural test runs against both classes; the C one is skipped only
when the compiled extension is missing.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import threading
import time
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import reflow_cli.native as native
from reflow_cli.native import CQueue, PyQueue, c_available, make_queue
from reflow_cli.native._pyqueue import MAX_CAPACITY

needs_c = pytest.mark.skipif(not c_available(), reason="C queue extension not built")

BACKENDS = [
    pytest.param(PyQueue, id="python"),
    pytest.param(CQueue, id="c", marks=needs_c),
]

REPO_ROOT = Path(native.__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def queue_cls(request: pytest.FixtureRequest) -> type:
    """Each queue class in turn."""
    return request.param


class Token:
    """A weak-referenceable payload."""


# --------------------------------------------------------------------------
# Module surface and backend selection


def test_exports() -> None:
    assert sorted(native.__all__) == [
        "BACKEND",
        "CQueue",
        "PyQueue",
        "c_available",
        "make_queue",
    ]
    assert native.BACKEND in ("c", "python")
    expected = CQueue if native.BACKEND == "c" else PyQueue
    assert type(make_queue(4)) is expected


def test_slots_only(queue_cls: type) -> None:
    assert not hasattr(queue_cls(2), "__dict__")


def _run_python(code: str, **env: str) -> str:
    full_env = {k: v for k, v in os.environ.items() if k != "REFLOW_PURE_PYTHON"}
    full_env.update(env)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT), full_env.get("PYTHONPATH", "")]
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_backend_default() -> None:
    out = _run_python("import reflow_cli.native as n; print(n.BACKEND)")
    assert out == ("c" if c_available() else "python")


def test_backend_forced_python() -> None:
    code = (
        "import reflow_cli.native as n;"
        "print(n.BACKEND, type(n.make_queue(2)).__name__, n.c_available())"
    )
    out = _run_python(code, REFLOW_PURE_PYTHON="1")
    assert out == f"python PyQueue {c_available()}"


def test_backend_without_extension() -> None:
    # A None entry in sys.modules makes the import fail as a missing module.
    code = (
        "import sys; sys.modules['reflow_cli.native._reflow_queue'] = None\n"
        "import reflow_cli.native as n\n"
        "print(n.BACKEND, n.c_available(), type(n.make_queue(2)).__name__)\n"
        "try:\n"
        "    n.CQueue(2)\n"
        "except RuntimeError:\n"
        "    print('refused')\n"
    )
    assert _run_python(code).split() == ["python", "False", "PyQueue", "refused"]


# --------------------------------------------------------------------------
# Construction


@pytest.mark.parametrize("bad", [0, -1, MAX_CAPACITY + 1])
def test_capacity_out_of_range(queue_cls: type, bad: int) -> None:
    with pytest.raises(ValueError, match="capacity must be between 1 and"):
        queue_cls(bad)


@pytest.mark.parametrize("bad", ["4", 4.0, True, None])
def test_capacity_not_int(queue_cls: type, bad: Any) -> None:
    with pytest.raises(TypeError, match="capacity must be an int"):
        queue_cls(bad)


def test_make_queue_rejects_zero() -> None:
    with pytest.raises(ValueError, match="got 0"):
        make_queue(0)


def test_new_queue(queue_cls: type) -> None:
    q = queue_cls(5)
    assert q.capacity == 5
    assert len(q) == 0
    assert not q
    assert q.free() == 5
    assert q.pop_many(3) == []
    assert q.clear() == []
    assert repr(q) == f"{queue_cls.__name__}(capacity=5, len=0)"


# --------------------------------------------------------------------------
# Behaviour


def test_fifo_order(queue_cls: type) -> None:
    q = queue_cls(8)
    for i in range(5):
        assert q.try_push(i)
    assert q.pop() == 0
    assert q.push_many([5, 6]) == 2
    assert q.pop_many(3) == [1, 2, 3]
    assert q.clear() == [4, 5, 6]


def test_full_and_empty_edges(queue_cls: type) -> None:
    q = queue_cls(3)
    assert all(q.try_push(x) for x in "abc")
    assert len(q) == 3 and q.free() == 0 and q
    assert q.try_push("d") is False
    assert q.push_many(["d", "e"]) == 0
    assert q.pop_many(10) == ["a", "b", "c"]  # "d" was never stored
    assert len(q) == 0 and q.free() == 3 and not q
    with pytest.raises(IndexError):
        q.pop()
    assert q.pop_many(1) == []


def test_capacity_one(queue_cls: type) -> None:
    q = queue_cls(1)
    for i in range(10):  # several laps of the ring
        assert q.try_push(i)
        assert not q.try_push("x")
        assert q.pop() == i
        assert q.push_many([i, "x"]) == 1
        assert q.pop_many(5) == [i]


def test_push_many_partial(queue_cls: type) -> None:
    q = queue_cls(4)
    items = list(range(10))
    assert q.push_many(items) == 4
    assert q.push_many(items, 4) == 0
    assert q.pop_many(2) == [0, 1]
    assert q.push_many(items, 4) == 2
    assert q.clear() == [2, 3, 4, 5]


@pytest.mark.parametrize("kind", [list, tuple, deque, lambda xs: range(len(xs))])
def test_push_many_sequences(queue_cls: type, kind: Any) -> None:
    q = queue_cls(8)
    seq = kind([0, 1, 2, 3, 4])
    assert q.push_many(seq, 2) == 3
    assert q.push_many(seq) == 5
    assert q.clear() == [2, 3, 4, 0, 1, 2, 3, 4]


def test_push_many_start_edges(queue_cls: type) -> None:
    q = queue_cls(4)
    assert q.push_many([]) == 0
    assert q.push_many([1, 2], 2) == 0
    assert q.push_many([1, 2], 7) == 0
    with pytest.raises(ValueError, match="start"):
        q.push_many([1, 2], -1)
    assert len(q) == 0 and q.free() == 4


def test_pop_many_limits(queue_cls: type) -> None:
    q = queue_cls(6)
    q.push_many(range(6))
    assert q.pop_many(0) == []
    assert q.pop_many(-3) == []
    assert q.pop_many(1) == [0]
    assert q.pop_many(2) == [1, 2]
    assert q.pop_many(1 << 40) == [3, 4, 5]
    assert q.pop_many(1) == []


def test_clear_then_reuse(queue_cls: type) -> None:
    q = queue_cls(3)
    q.push_many("xyz")
    assert q.clear() == ["x", "y", "z"]
    assert q.clear() == []
    assert q.push_many("uvw") == 3
    assert q.pop() == "u"


def test_none_items(queue_cls: type) -> None:
    q = queue_cls(4)
    assert q.try_push(None)
    assert q.push_many([None, 0, None]) == 3
    assert len(q) == 4
    assert q.pop() is None
    assert q.pop_many(4) == [None, 0, None]


def test_wraparound(queue_cls: type) -> None:
    # Capacity 5 sits in a ring of 8 cells: many laps with ragged batches.
    q = queue_cls(5)
    model: deque = deque()
    counter = 0
    for round_ in range(400):
        batch = list(range(counter, counter + round_ % 7))
        pushed = q.push_many(batch)
        model.extend(batch[:pushed])
        counter += pushed
        want = [model.popleft() for _ in range(min(len(model), round_ % 4))]
        assert q.pop_many(round_ % 4) == want
    assert q.clear() == list(model)


@pytest.mark.parametrize("how", ["pop", "pop_many", "clear"])
def test_references_released(queue_cls: type, how: str) -> None:
    q = queue_cls(4)
    obj = Token()
    ref = weakref.ref(obj)
    assert q.try_push(obj)
    assert q.push_many([Token(), obj]) == 2
    del obj
    if how == "pop":
        got = [q.pop() for _ in range(3)]
    else:
        got = getattr(q, how)(*([3] if how == "pop_many" else []))
    assert len(got) == 3 and got[0] is ref()
    del got
    assert ref() is None, "the queue still references a popped item"


def test_refcount_steady(queue_cls: type) -> None:
    q = queue_cls(16)
    obj = Token()
    before = sys.getrefcount(obj)
    for _ in range(50):
        q.try_push(obj)
        q.push_many([obj] * 20)
        q.pop()
        q.pop_many(7)
        q.clear()
    assert sys.getrefcount(obj) == before


def test_len_free_invariant(queue_cls: type) -> None:
    q = queue_cls(7)
    for step in range(30):
        if step % 3:
            q.push_many(range(step % 5))
        else:
            q.pop_many(step % 4)
        assert len(q) + q.free() == 7
        assert bool(q) == (len(q) > 0)


# --------------------------------------------------------------------------
# The raw C ring, including the logical capacity the wrapper never reaches


@needs_c
def test_c_ring_direct() -> None:
    from reflow_cli.native._reflow_queue import ffi, lib

    assert lib.RQ_MAX_CAPACITY == MAX_CAPACITY
    assert lib.rq_new(0) == ffi.NULL
    assert lib.rq_new(MAX_CAPACITY + 1) == ffi.NULL
    q = ffi.gc(lib.rq_new(3), lib.rq_free)  # ring of 4 cells, logical bound 3
    assert lib.rq_capacity(q) == 3
    assert lib.rq_pop(q) == -1
    assert lib.rq_push_many(q, [7, 8, 9, 10], 4) == 3
    assert lib.rq_try_push(q, 11) == 0
    assert lib.rq_len(q) == 3
    out = ffi.new("uint32_t[]", 4)
    assert lib.rq_pop_many(q, out, 2) == 2
    assert list(out[0:2]) == [7, 8]
    assert lib.rq_try_push(q, 11) == 1
    assert lib.rq_push_many(q, [12, 13], 2) == 1
    assert lib.rq_len(q) == 3
    assert [lib.rq_pop(q) for _ in range(4)] == [9, 11, 12, -1]
    assert lib.rq_push_many(q, [1], 0) == 0
    assert lib.rq_len(q) == 0


# --------------------------------------------------------------------------
# Threads: many producers, one consumer


def test_threaded_producers(queue_cls: type) -> None:
    producers, per_producer, capacity = 4, 3000, 16
    q = queue_cls(capacity)
    errors: list[BaseException] = []
    stop = threading.Event()

    def produce(pid: int) -> None:
        try:
            i = 0
            while i < per_producer and not stop.is_set():
                if i % 2:  # alternate single pushes and batches
                    batch = [(pid, j) for j in range(i, min(i + 5, per_producer))]
                    done = 0
                    while done < len(batch) and not stop.is_set():
                        pushed = q.push_many(batch, done)
                        done += pushed
                        if not pushed:
                            time.sleep(0)
                    i += len(batch)
                else:
                    while not q.try_push((pid, i)) and not stop.is_set():
                        time.sleep(0)
                    i += 1
        except BaseException as exc:  # reported by the consumer below
            errors.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often to shake out races
    threads = [
        threading.Thread(target=produce, args=(pid,), daemon=True)
        for pid in range(producers)
    ]
    received: list[tuple[int, int]] = []
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        total = producers * per_producer
        while len(received) < total and not errors:
            assert time.monotonic() < deadline, "consumer timed out"
            assert 0 <= len(q) <= capacity
            got = q.pop_many(7) if len(received) % 2 else q.pop_many(1)
            if got:
                received.extend(got)
            else:
                time.sleep(0)
    finally:
        stop.set()
        sys.setswitchinterval(old_interval)
        for t in threads:
            t.join(10)
    assert not errors, errors
    assert len(received) == producers * per_producer
    for pid in range(producers):
        assert [j for p, j in received if p == pid] == list(range(per_producer))
    assert len(q) == 0 and q.free() == capacity
    assert q.pop_many(capacity) == []


# Producers in C threads hammer the raw ring without the GIL in the way: Python
# threads hardly ever overlap inside the short C calls, so the test above
# cannot catch a broken CAS.  Values are (producer << 24 | sequence number);
# the consumer checks each producer's order and that nothing is lost.
_C_STRESS = r"""
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>
#include "queue.h"

enum { PRODUCERS = 4, PER = 20000 };
/* Roomy rings let producers run side by side and collide on the CAS; small
 * ones keep hitting the full and empty edges. */
static const uint32_t CAPS[] = {1024, 5, 1024, 64, 1024};
static rq_t *q;
static uint32_t cap;

static void *produce(void *arg)
{
    uint32_t pid = (uint32_t)(uintptr_t)arg, i = 0;
    while (i < PER) {
        if (i % 3 == 0) { /* single pushes and batches of up to 5 */
            while (!rq_try_push(q, (pid << 24) | i))
                sched_yield();
            i++;
            continue;
        }
        uint32_t batch[5], n = 0, done = 0;
        for (; n < 5 && i + n < PER; n++)
            batch[n] = (pid << 24) | (i + n);
        while (done < n) {
            uint32_t k = rq_push_many(q, batch + done, n - done);
            if (k == 0)
                sched_yield();
            done += k;
        }
        i += n;
    }
    return NULL;
}

static int consume(void)
{
    uint32_t next[PRODUCERS] = {0}, out[4];
    long total = 0, idle = 0;
    time_t last_progress = time(NULL);
    while (total < (long)PRODUCERS * PER) {
        uint32_t n;
        if (total % 2) {
            int32_t v = rq_pop(q);
            n = v >= 0;
            out[0] = (uint32_t)v;
        } else {
            n = rq_pop_many(q, out, 4);
        }
        if (rq_len(q) > cap) {
            printf("len above capacity\n");
            return 1;
        }
        /* stuck = no progress for 20 s (an overloaded machine may be slow, never that slow) */
        if (n == 0 && ++idle % (1L << 20) == 0 && time(NULL) - last_progress > 20) {
            printf("stuck after %ld items\n", total);
            return 1;
        }
        if (n)
            last_progress = time(NULL);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t pid = out[i] >> 24, seq = out[i] & 0xFFFFFF;
            if (pid >= PRODUCERS || seq != next[pid]) {
                printf("bad item pid=%u seq=%u\n", pid, seq);
                return 1;
            }
            next[pid]++;
        }
        total += n;
    }
    if (rq_pop(q) != -1 || rq_len(q) != 0) {
        printf("not empty at the end\n");
        return 1;
    }
    return 0;
}

int main(void)
{
    for (size_t round = 0; round < sizeof CAPS / sizeof CAPS[0]; round++) {
        cap = CAPS[round];
        q = rq_new(cap);
        pthread_t t[PRODUCERS];
        for (uintptr_t p = 0; p < PRODUCERS; p++)
            pthread_create(&t[p], NULL, produce, (void *)p);
        if (consume() != 0)
            return 1; /* producers may be stuck: exit without joining */
        for (int p = 0; p < PRODUCERS; p++)
            pthread_join(t[p], NULL);
        rq_free(q);
    }
    printf("ok\n");
    return 0;
}
"""


def _c_compiler() -> list[str] | None:
    cc = sysconfig.get_config_var("CC") or ""
    argv = shlex.split(cc) if cc else []
    if argv and shutil.which(argv[0]):
        return argv
    found = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    return [found] if found else None


@pytest.mark.skipif(
    sys.platform == "win32" or _c_compiler() is None, reason="needs a POSIX C compiler"
)
def test_c_ring_threads_without_gil(tmp_path: Path) -> None:
    src_dir = Path(native.__file__).resolve().parent
    harness = tmp_path / "stress.c"
    harness.write_text(_C_STRESS)
    exe = tmp_path / "stress"
    cc = _c_compiler()
    assert cc is not None
    subprocess.run(
        [
            *cc,
            "-std=c11",
            "-O2",
            "-pthread",
            f"-I{src_dir}",
            str(harness),
            str(src_dir / "queue.c"),
            "-o",
            str(exe),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    done = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok"


# --------------------------------------------------------------------------
# Stateful comparison against a deque model

items_st = st.one_of(st.none(), st.integers(), st.text(max_size=3))


class QueueMachine(RuleBasedStateMachine):
    """Drives one queue class and a ``deque`` model with the same operations."""

    queue_cls: type = PyQueue

    def __init__(self) -> None:
        super().__init__()
        self.model: deque = deque()
        self.cap = 0
        self.q: Any = None

    @initialize(capacity=st.integers(1, 9))
    def create(self, capacity: int) -> None:
        self.cap = capacity
        self.q = self.queue_cls(capacity)

    @rule(item=items_st)
    def try_push(self, item: Any) -> None:
        fits = len(self.model) < self.cap
        assert self.q.try_push(item) is fits
        if fits:
            self.model.append(item)

    @rule(items=st.lists(items_st, max_size=12), start=st.integers(0, 13))
    def push_many(self, items: list, start: int) -> None:
        n = max(0, min(len(items) - start, self.cap - len(self.model)))
        assert self.q.push_many(items, start) == n
        self.model.extend(items[start : start + n])

    @rule(n=st.integers(-1, 12))
    def pop_many(self, n: int) -> None:
        want = [self.model.popleft() for _ in range(min(max(n, 0), len(self.model)))]
        assert self.q.pop_many(n) == want

    @rule()
    def pop(self) -> None:
        if self.model:
            assert self.q.pop() == self.model.popleft()
        else:
            with pytest.raises(IndexError):
                self.q.pop()

    @rule()
    def clear(self) -> None:
        assert self.q.clear() == list(self.model)
        self.model.clear()

    @invariant()
    def sizes_agree(self) -> None:
        assert len(self.q) == len(self.model)
        assert bool(self.q) == bool(self.model)
        assert self.q.free() == self.cap - len(self.model)


_STATEFUL = settings(max_examples=100, stateful_step_count=40, deadline=None)


class PyQueueMachine(QueueMachine):
    queue_cls = PyQueue


class CQueueMachine(QueueMachine):
    queue_cls = CQueue


TestPyQueueStateful = PyQueueMachine.TestCase
TestPyQueueStateful.settings = _STATEFUL
TestCQueueStateful = needs_c(CQueueMachine.TestCase)
TestCQueueStateful.settings = _STATEFUL


@pytest.mark.skipif(not c_available(), reason="needs the compiled extension")
def test_c_calls_keep_the_gil_beside_a_busy_thread() -> None:
    # Releasing the GIL on every call would hand it to the busy thread for up to the
    # switch interval (5 ms) each time: 2,000 push/pop pairs would take ~20 s, not ~1 ms.
    import threading
    import time

    stop = threading.Event()

    def busy() -> None:
        while not stop.is_set():
            pass

    worker = threading.Thread(target=busy, daemon=True)
    worker.start()
    try:
        queue = CQueue(8)
        started = time.perf_counter()
        for i in range(2000):
            queue.try_push(i)
            queue.pop_many(8)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        worker.join()
    assert elapsed < 1.0, f"{elapsed:.2f} s: the C calls seem to release the GIL"
