"""Helpers shared by the benchmark scripts: JSON lines, RSS sampling, child processes.

Standard library only, on purpose: ``bench/reference.py`` imports it inside
the reference runtime's virtual environment, where ``reflow_cli`` is absent.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "BENCH_DIR",
    "Emitter",
    "RssSampler",
    "best_of",
    "command_env",
    "load_average",
    "python_version",
    "rss_bytes",
    "run_child",
    "with_bytecode",
]

BENCH_DIR = Path(__file__).resolve().parent
_PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def python_version() -> str:
    """``3.11.7``: the interpreter running this benchmark."""
    return platform.python_version()


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (the machine is shared: say how busy it was)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def rss_bytes() -> int:
    """Resident set size of this process, from ``/proc/self/statm``."""
    with open("/proc/self/statm", "rb") as f:
        return int(f.read().split()[1]) * _PAGE


class RssSampler:
    """Samples this process's RSS every ``interval`` s in a thread; keeps the peak.

    ``with RssSampler() as rss: ...`` then ``rss.growth_mb`` is the peak RSS
    during the block minus the RSS just before it.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.before = 0
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        with open("/proc/self/statm", "rb") as f:
            while not self._stop.is_set():
                f.seek(0)
                rss = int(f.read().split()[1]) * _PAGE
                if rss > self.peak:
                    self.peak = rss
                self.samples += 1
                self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.before = self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth_mb(self) -> float:
        """Peak RSS during the block minus RSS before it, in MiB."""
        return round((self.peak - self.before) / MB, 2)

    @property
    def peak_mb(self) -> float:
        """Peak RSS during the block, in MiB."""
        return round(self.peak / MB, 1)


class Emitter:
    """Prints one JSON object per line (and appends it to ``--json-out`` when given).

    Every line gets ``impl`` and ``python``; ``common`` adds fields shared by
    all lines of a script (``queue`` for reflow's own benchmarks).
    """

    def __init__(self, json_out: str | None = None, *, impl: str = "reflow", **common: Any) -> None:
        self.json_out = json_out
        self.common = {"impl": impl, **common, "python": python_version()}

    def __call__(self, line: Mapping[str, Any]) -> dict[str, Any]:
        record = {**line, **{k: v for k, v in self.common.items() if k not in line}}
        text = json.dumps(record)
        print(text, flush=True)
        if self.json_out:
            with open(self.json_out, "a", encoding="utf-8") as f:
                f.write(text + "\n")
        return record


def best_of(values: Iterable[float]) -> float:
    """The smallest value: on a noisy machine the least disturbed run is the most telling."""
    return min(values)


def run_child(
    argv: list[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float,
    echo_stderr: bool = True,
) -> tuple[list[dict[str, Any]], int | None, str]:
    """Run a benchmark child process; return its JSON lines, exit code (None on timeout) and stderr tail.

    Non-JSON stdout lines are ignored. On timeout the child (and only it) is
    killed and whatever lines it printed are still returned.
    """
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        start_new_session=True,  # so a frozen child can be killed with its threads
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        rc: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        rc = None
    lines = []
    for raw in out.splitlines():
        raw = raw.strip()
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                pass
    tail = err[-2000:]
    if echo_stderr and tail.strip() and (rc != 0):
        print(tail, file=sys.stderr, flush=True)
    return lines, rc, tail


def command_env() -> dict[str, str]:
    """The environment for timing a ``reflow`` command: bytecode caches written and used.

    ``PYTHONDONTWRITEBYTECODE`` (set on some CI machines) would make every start
    of an editable checkout compile reflow's ~100 modules again; pip-installed
    users never pay that, as pip compiles at install time.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def with_bytecode(package_dir: Path) -> None:
    """Compile ``package_dir`` to bytecode, as pip does when it installs a wheel."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package_dir)], check=True,
                   capture_output=True, env=command_env())
