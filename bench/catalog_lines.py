"""Big log files through catalog components: tpl_file_lines -> tpl_regex_matcher -> tpl_reduce.

Pipeline (the catalog's streaming path, constant memory)::

    lines (tpl_file_lines) --output--> match (tpl_regex_matcher, `ERROR (\\w+)`) --output--> count (tpl_reduce count)

``tpl_file_lines`` sends one String per line and a Flow at the end; the matcher forwards
matching lines (and the Flow) on ``output``; ``tpl_reduce`` counts them and sends one
Integer when the Flow arrives. The count is checked against the number of ERROR lines
written. Log lines look like ``2024-01-02T03:04:05.123Z ERROR api request 17 took 113 ms``
(about 60 bytes, a quarter of them ERROR).

Figures, each size in its own subprocess (a fresh interpreter, so peak RSS is that run's):
- ``lines_per_s``: lines / elapsed, elapsed from ``net.start()`` until the run settles
  COMPLETE (best of ``--repeats`` runs of the 1-million-line file);
- ``peak_rss_mb``: the child's peak resident set size (``ru_maxrss``: imports, the
  network and the run), and ``rss_growth_mb`` (peak during the run minus RSS just before
  it, sampled every 5 ms).

Targets:
- >= 100,000 lines/s for 1,000,000 lines;
- peak RSS for 4,000,000 lines within 10 MB of the 1,000,000-line run.

The log files are generated in a temporary directory (about 60 and 240 MB) and removed.
Run: ``python bench/catalog_lines.py [--quick] [--json-out FILE] [--backend c|python]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import MB, Emitter, RssSampler, load_average, run_child  # noqa: E402

SIZES = (1_000_000, 4_000_000)
QUICK_SIZES = (100_000, 400_000)
TARGET_LINES_PER_S = 100_000
TARGET_RSS_DELTA_MB = 10.0
PATTERN = r"ERROR (\w+)"

_LEVELS = ("INFO", "INFO", "WARN", "ERROR")
_SERVICES = ("api", "db", "auth", "cache", "queue")


def write_log(path: Path, lines: int, seed: int = 7) -> int:
    """Write ``lines`` log lines to ``path``; return how many are ERROR lines."""
    rng = random.Random(seed)
    errors = 0
    with open(path, "w", encoding="utf-8") as handle:
        batch = []
        for n in range(lines):
            level = _LEVELS[rng.getrandbits(2)]
            errors += level == "ERROR"
            batch.append(
                f"2024-01-02T03:{n // 60 % 60:02d}:{n % 60:02d}.{n % 1000:03d}Z {level} {_SERVICES[n % 5]} "
                f"request {n} took {rng.randrange(1, 999)} ms\n"
            )
            if len(batch) == 10_000:
                handle.write("".join(batch))
                batch.clear()
        handle.write("".join(batch))
    return errors


def run_pipeline(path: str, expected: int) -> dict[str, Any]:
    """One run in this process (the child's work)."""
    from reflow_cli import Actor, Network, PortSpec
    from reflow_cli.native import BACKEND

    counts: list[int] = []

    class Sink(Actor):
        component = "bench_sink"
        inports = [PortSpec("in")]
        outports: list[str] = []

        def run(self, ctx: Any) -> None:
            counts.append(ctx.inputs["in"]["data"])

    net = Network()
    net.register_actor("bench_sink", Sink())
    net.add_node("lines", "tpl_file_lines", {"path": path})
    net.add_node("match", "tpl_regex_matcher", {"pattern": PATTERN})
    net.add_node("count", "tpl_reduce", {"operation": "count"})
    net.add_node("sink", "bench_sink")
    net.add_connection("lines", "output", "match", "input")
    net.add_connection("match", "output", "count", "input")
    net.add_connection("count", "output", "sink", "in")
    net.add_initial("lines", "trigger", {"type": "Flow"})
    with RssSampler() as rss:
        started = time.perf_counter()
        status = net.run(timeout=900)
        elapsed = time.perf_counter() - started
    if status.name != "COMPLETE" or counts != [expected]:
        raise SystemExit(f"run did not complete as expected: {status.describe()}, counts {counts}, expected {expected}")
    return {
        "elapsed_s": round(elapsed, 3),
        "rss_growth_mb": rss.growth_mb,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB, 1),
        "queue": BACKEND,
    }


def child(path: str, lines: int, expected: int) -> None:
    result = run_pipeline(path, expected)
    print(json.dumps({"lines": lines, **result}), flush=True)


def measure(path: Path, lines: int, expected: int, env: dict[str, str]) -> dict[str, Any]:
    out, rc, tail = run_child(
        [sys.executable, __file__, "--child", str(path), str(lines), str(expected)], env=env, timeout=1800
    )
    if rc != 0 or not out:
        raise SystemExit(f"child for {lines} lines failed (exit {rc}): {tail}")
    return out[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES} instead of {SIZES} (no targets)")
    parser.add_argument("--json-out", metavar="FILE", help="also append the JSON lines to FILE")
    parser.add_argument("--backend", choices=["c", "python"], default=None, help="inport queue backend (default: the installed one)")
    parser.add_argument("--repeats", type=int, default=2, help="runs of the small size; the best counts (default 2)")
    parser.add_argument("--child", nargs=3, metavar=("PATH", "LINES", "EXPECTED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, lines, expected = args.child
        child(path, int(lines), int(expected))
        return

    env: dict[str, str] = {}
    if args.backend == "python":
        env["REFLOW_PURE_PYTHON"] = "1"
    elif args.backend == "c":
        env["REFLOW_PURE_PYTHON"] = ""
    emit = Emitter(args.json_out, bench="catalog_lines")
    emit({"bench": "machine", "load_average": load_average(), "cpus": os.cpu_count()})
    small, big = QUICK_SIZES if args.quick else SIZES
    with tempfile.TemporaryDirectory(prefix="reflow-bench-lines-") as folder:
        runs: dict[int, dict[str, Any]] = {}
        for lines in (small, big):
            path = Path(folder) / f"{lines}.log"
            started = time.perf_counter()
            errors = write_log(path, lines)
            emit({"bench": "catalog_lines_file", "lines": lines, "bytes": path.stat().st_size, "error_lines": errors,
                  "written_s": round(time.perf_counter() - started, 2)})
            repeats = max(1, args.repeats) if lines == small else 1
            results = [measure(path, lines, errors, env) for _ in range(repeats)]
            best = min(results, key=lambda r: r["elapsed_s"])
            best["peak_rss_mb"] = min(r["peak_rss_mb"] for r in results)
            runs[lines] = best
            emit({"bench": "catalog_lines", "lines": lines, "matched": errors, **best,
                  "lines_per_s": round(lines / best["elapsed_s"]), "runs": len(results)})
            path.unlink()
    rate = small / runs[small]["elapsed_s"]
    delta = runs[big]["peak_rss_mb"] - runs[small]["peak_rss_mb"]
    checks = {
        "lines_per_s": {"value": round(rate), "target": f">= {TARGET_LINES_PER_S} lines/s at {small} lines", "ok": rate >= TARGET_LINES_PER_S},
        "rss_delta_mb": {"value": round(delta, 1), "target": f"peak RSS at {big} lines within {TARGET_RSS_DELTA_MB} MB of {small}", "ok": delta <= TARGET_RSS_DELTA_MB},
    }
    line: dict[str, Any] = {"bench": "catalog_lines_targets", "queue": runs[small]["queue"], "checks": checks}
    if args.quick:
        line["note"] = "quick sizes: the targets are for 1,000,000 and 4,000,000 lines"
    line["target"] = "; ".join(c["target"] for c in checks.values())
    line["ok"] = all(c["ok"] for c in checks.values())
    emit(line)


if __name__ == "__main__":
    main()
