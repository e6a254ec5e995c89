"""Run every benchmark in one go and summarise the targets.

Runs, each as a subprocess: the core runtime's ``chain.py`` (both queue
backends), ``floor.py``, ``burst.py``, ``wide.py``, ``queue_bench.py`` and
``threaded.py``;
``startup.py`` and ``validate.py`` (the CLI); ``compose.py``;
``observability.py``; ``catalog_lines.py``; ``packs.py`` and
``ray_executor.py`` (skipped, saying so, when their extra is not installed);
and ``reference.py`` (which skips itself when the reference venv is missing). Every JSON line they print
is echoed as it comes, tagged with ``"script"``, and written to
``bench/results/latest.jsonl`` (git-ignored), after a first ``run_all`` line
with the machine's load average. Then a table lists each target with ok/MISS,
and a second one compares reflow with the reference where both ran.

A missed target never raises: the exit status is 0 unless a script itself
failed (crashed or timed out), then 1.

Run: ``python bench/run_all.py [--quick]``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH_DIR, load_average, python_version  # noqa: E402

RESULTS = BENCH_DIR / "results" / "latest.jsonl"


#: Benchmarks that need an optional extra, and the module that tells whether it is installed.
NEEDS: dict[str, tuple[str, str]] = {
    "packs": ("onnxruntime", "pip install -e '.[ml,gpu]'"),
    "ray_executor": ("ray", "pip install -e '.[ray]'"),
}


def scripts(quick: bool) -> list[tuple[str, list[str], float]]:
    """(name, argv, timeout in s) of every benchmark to run."""
    q = ["--quick"] if quick else []
    queue_args = ["--items", "100000", "--repeats", "2"] if quick else []
    return [
        ("chain", ["chain.py", *q], 1800),
        ("floor", ["floor.py", *q], 900),
        ("burst", ["burst.py", *q], 1800),
        ("wide", ["wide.py", *q], 900),
        ("queue_bench", ["queue_bench.py", *queue_args], 900),
        ("threaded", ["threaded.py", *q], 600),
        ("startup", ["startup.py", *q], 300),
        ("validate", ["validate.py", *q], 300),
        ("compose", ["compose.py", *q], 300),
        ("observability", ["observability.py", *q], 900),
        ("catalog_lines", ["catalog_lines.py", *q], 1200),
        ("packs", ["packs.py", *q], 900),
        ("ray_executor", ["ray_executor.py", *q], 900),
        ("reference", ["reference.py", *q], 3600),
    ]


def missing_extra(name: str) -> str | None:
    """Why ``name`` cannot run here (its optional extra is not installed), or None."""
    import importlib.util

    if name not in NEEDS:
        return None
    module, install = NEEDS[name]
    return None if importlib.util.find_spec(module) else f"{module} is not installed ({install})"


def run_script(name: str, argv: list[str], timeout: float, out: Any) -> tuple[list[dict[str, Any]], str | None]:
    """Run one script, echoing and saving its JSON lines as they come; return them and an error, if any."""
    proc = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / argv[0]), *argv[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=BENCH_DIR.parent,
        start_new_session=True,
    )
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        proc.kill()

    watchdog = threading.Timer(timeout, kill)
    watchdog.start()
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    lines = []
    try:
        for raw in proc.stdout:  # type: ignore[union-attr]
            raw = raw.strip()
            if not raw.startswith("{"):
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError:
                continue
            line = {"script": name, **line}
            lines.append(line)
            text = json.dumps(line)
            print(text, flush=True)
            out.write(text + "\n")
            out.flush()
        proc.wait()
    finally:
        watchdog.cancel()
    reader.join(5)
    if timed_out.is_set():
        return lines, f"timed out after {timeout:g} s"
    if proc.returncode != 0:
        tail = "".join(stderr)[-1500:]
        print(tail, file=sys.stderr)
        last = tail.strip().splitlines()[-1] if tail.strip() else ""
        return lines, f"exit {proc.returncode}: {last}"
    return lines, None


def describe(line: dict[str, Any]) -> str:
    """The configuration of a result line, in a few words."""
    bench = line.get("bench")
    if bench == "chain":
        return f"K={line.get('k')} events={'on' if line.get('events') else 'off'} queue={line.get('queue')}"
    if bench == "chain_backends":
        return f"K={line.get('k')} events={'on' if line.get('events') else 'off'}"
    if bench == "floor":
        return f"K={line.get('k')} queue={line.get('queue')}"
    if bench == "burst":
        return f"{line.get('scenario')} size={line.get('size')}"
    if bench == "wide":
        return f"{line.get('topology')} nodes={line.get('nodes')}"
    if bench == "queue":
        return f"{line.get('impl')} batch={line.get('batch')}"
    if bench in ("validate", "compose"):
        size = f"{line.get('graphs')}x{line.get('nodes')}" if bench == "compose" else f"nodes={line.get('nodes')}"
        return f"{line.get('mode')} {size}"
    if bench == "observability":
        return f"{line.get('config')} N={line.get('n')} K={line.get('k')}"
    if bench in ("catalog_lines", "catalog_lines_targets"):
        return f"queue={line.get('queue')}" + (f" lines={line['lines']:,}" if "lines" in line else "")
    if bench == "packs_inference":
        return f"{line.get('model')} threaded={line.get('threaded')}"
    if bench == "packs_sdf_render":
        return f"{line.get('width')}x{line.get('height')} {line.get('adapter_type')}"
    if bench == "ray":
        return str(line.get("scenario"))
    return ""


def value_of(line: dict[str, Any]) -> str:
    """The line's headline figure (its ``metric``)."""
    metric = line.get("metric")
    if line.get("error"):
        return f"error: {line['error']}"[:40]
    if metric and metric in line:
        value = line[metric]
        return f"{metric}={value:,}" if isinstance(value, int) else f"{metric}={value}"
    if line.get("bench") == "queue":
        return f"ns_per_item={line.get('ns_per_item')}"
    for key in ("overhead_us", "first_frame_s", "batched_over_unbatched", "speedup", "hops_per_s", "seconds"):
        if key in line:
            return f"{key}={line[key]}"
    checks = line.get("checks")
    if isinstance(checks, dict):
        return ", ".join(f"{k}={v.get('value')}" for k, v in checks.items() if isinstance(v, dict))[:60]
    return ""


def verdict(line: dict[str, Any]) -> str:
    """ok, or MISS with the failed checks."""
    if line.get("ok"):
        return "ok"
    if line.get("ok") is None:
        return "n/a (quick run)"
    failed = [name for name, good in (line.get("checks") or {}).items() if not good]
    return "MISS" + (f" ({', '.join(failed)})" if failed else "")


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain fixed-width table."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*map(str, r)) for r in rows]
    return "\n".join(out)


def comparison(lines: list[dict[str, Any]]) -> list[list[str]]:
    """reflow (C queue) against the reference, where both ran the same configuration."""
    ours = [ln for ln in lines if str(ln.get("impl", "")).startswith("reflow") and ln.get("queue") in ("c", None)]
    ref = [ln for ln in lines if str(ln.get("impl", "")).startswith("offbit-reflow")]
    rows = []

    def pick(pool: list[dict[str, Any]], **match: Any) -> dict[str, Any] | None:
        for ln in pool:
            if all(ln.get(k) == v for k, v in match.items()) and not ln.get("error"):
                return ln
        return None

    for events in (False, True):
        for k in (0, 5, 20):
            a = pick(ours, bench="chain", k=k, events=events, queue="c")
            b = pick(ref, bench="chain", k=k, events=events)
            if a and b and b.get("hops_per_s"):
                rows.append([f"chain K={k} events={'on' if events else 'off'}", "hops/s",
                             f"{a['hops_per_s']:,}", f"{b['hops_per_s']:,}", f"{a['hops_per_s'] / b['hops_per_s']:.1f}x"])
    a, b = pick(ours, bench="burst", scenario="sends50"), pick(ref, bench="burst", scenario="sends50")
    if a and b and a.get("msgs_per_s") and b.get("msgs_per_s"):
        rows.append(["burst sends50", "msgs/s", f"{a['msgs_per_s']:,}", f"{b['msgs_per_s']:,}",
                     f"{a['msgs_per_s'] / b['msgs_per_s']:.1f}x"])
        rows.append(["burst sends50", "RSS growth MB", a["rss_growth_mb"], b["rss_growth_mb"], ""])
    a, b = pick(ours, bench="burst", scenario="stream"), pick(ref, bench="burst", scenario="stream_unbounded")
    if a and b and a.get("mb_per_s") and b.get("mb_per_s"):
        rows.append(["stream 64 KiB frames (ref: unbounded)", "MB/s", a["mb_per_s"], b["mb_per_s"],
                     f"{a['mb_per_s'] / b['mb_per_s']:.1f}x"])
        rows.append(["stream 64 KiB frames (ref: unbounded)", "RSS growth MB", a["rss_growth_mb"], b["rss_growth_mb"], ""])
    for topology in ("pairs", "linear"):
        for nodes in (1_000, 5_000):
            a = pick(ours, bench="wide", topology=topology, nodes=nodes)
            b = pick(ref, bench="wide", topology=topology, nodes=nodes)
            if a and b and b.get("total_s"):
                rows.append([f"wide {topology} {nodes}", "total s (lower wins)", a["total_s"], b["total_s"],
                             f"{b['total_s'] / a['total_s']:.1f}x"])
                rows.append([f"wide {topology} {nodes}", "KB/node", a["kb_per_node"], b["kb_per_node"], ""])
    return rows


def main() -> None:
    """Run everything, save the lines, print the summaries."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short smoke run of every benchmark")
    parser.add_argument("--only", nargs="+", help="run only these scripts (names as in the table of bench/README.md)")
    args = parser.parse_args()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    all_lines: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    started = time.perf_counter()
    with open(RESULTS, "w", encoding="utf-8") as out:
        head = {
            "script": "run_all", "bench": "run_all", "quick": args.quick,
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "cpus": os.cpu_count(), "loadavg": load_average(), "python": python_version(),
        }
        print(json.dumps(head), flush=True)
        out.write(json.dumps(head) + "\n")
        for name, argv, timeout in scripts(args.quick):
            if args.only and name not in args.only:
                continue
            why = missing_extra(name)
            if why:
                line = {"script": name, "bench": name, "skipped": True, "why": why}
                all_lines.append(line)
                print(json.dumps(line), flush=True)
                out.write(json.dumps(line) + "\n")
                continue
            lines, error = run_script(name, argv, timeout, out)
            all_lines += lines
            if error:
                errors[name] = error
                line = {"script": name, "bench": name, "error": error, "target": "runs", "ok": False}
                all_lines.append(line)
                out.write(json.dumps(line) + "\n")
        tail = {"script": "run_all", "bench": "run_all_end", "loadavg": load_average(),
                "wall_s": round(time.perf_counter() - started, 1), "errors": errors}
        print(json.dumps(tail), flush=True)
        out.write(json.dumps(tail) + "\n")

    rows = [[ln["script"], ln["bench"], describe(ln), value_of(ln), ln["target"], verdict(ln)]
            for ln in all_lines if "target" in ln]
    print()
    print(f"Targets ({RESULTS.relative_to(BENCH_DIR.parent)}; load average at start {head['loadavg']}, "
          f"at end {tail['loadavg']}, {os.cpu_count()} CPUs)")
    print(table(rows, ["script", "bench", "config", "value", "target", "result"]))
    missed = sum(1 for r in rows if r[-1].startswith("MISS"))
    judged = sum(1 for r in rows if not r[-1].startswith("n/a"))
    print(f"{judged - missed}/{judged} targets met" + (f"; {missed} MISS" if missed else ""))
    compared = comparison(all_lines)
    if compared:
        print()
        print("reflow (C queue) vs offbit-reflow, same machine, same run (ratio > 1: reflow better)")
        print(table(compared, ["benchmark", "figure", "reflow", "offbit-reflow", "ratio"]))
    skipped = [ln for ln in all_lines if ln.get("skipped")]
    for ln in skipped:
        print(f"\n{ln['script']}: skipped: {ln.get('why')}")
    if errors:
        print("\nscripts that failed: " + "; ".join(f"{k}: {v}" for k, v in errors.items()))
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
