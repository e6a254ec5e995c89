#!/usr/bin/env python3
"""Record golden files from the reference runtime ``offbit-reflow==0.2.9``.

Standalone (stdlib only).  Usage::

    python tests/compat/record_reference.py                 # record every probe
    python tests/compat/record_reference.py messages events # only these probes
    python tests/compat/record_reference.py --check         # compare, write nothing
    python tests/compat/record_reference.py --list          # list probes and cases

What it does:

1. finds the scratch venv holding the reference (``--venv``, else
   ``$REFLOW_REFERENCE_VENV``, else ``/work/refvenv``); if it does not exist it
   is created with ``python -m venv`` and ``pip install offbit-reflow==0.2.9``.
   The reference is never a dependency of reflow itself;
2. runs the probe modules in ``tests/compat/probes/`` inside that venv.  Every
   case runs in a subprocess under a timeout, because the reference freezes the
   whole interpreter (GIL held on a full channel) or aborts the process (Rust
   panic, exit 134 / SIGABRT) in several situations.  A frozen case is recorded
   as ``{"outcome": "timeout"}``, an aborted one as ``{"outcome": "aborted",
   ...}`` with the panic text, and the remaining cases continue in a fresh
   process;
3. writes one pretty-printed, sorted-key JSON document per probe module into
   ``tests/compat/golden/``.  Probes record only deterministic facts (types
   instead of timestamps, normalised addresses and paths, sorted lists where
   the reference's order is a hash-map accident), so re-running gives
   byte-identical files; ``--check`` verifies exactly that.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REFERENCE = "offbit-reflow==0.2.9"
REFERENCE_VERSION = "0.2.9"
DEFAULT_VENV = "/work/refvenv"
HERE = Path(__file__).resolve().parent
PROBES_DIR = HERE / "probes"
GOLDEN_DIR = HERE / "golden"
#: Probe modules, in recording order (files under ``probes/``).
PROBES = ("messages", "from_json", "context", "events", "graph", "compose", "streams", "templates", "misc", "catalog")

ENCODING = (
    "Values are JSON-native where possible. A JSON object with the single key '$py' stands for a "
    "Python value with no JSON form: on input its text is evaluated with eval() in a namespace "
    "holding Message (the implementation under test), math and IntEnum (e.g. {'$py': '2**63'}, "
    "{'$py': \"float('nan')\"}, {'$py': \"b'ab'\"}, {'$py': '(1, 2)'}); on output it is the value's "
    "evaluable repr (addresses normalised to 0x…). {'$message': <as_json>} (outputs only) is a "
    "Message object. Errors are {'error': {'type': <exception class name>, 'builtin': <first builtin "
    "class in its MRO, only when different>, 'text': <str(exc) with addresses/paths normalised>}}. "
    "A case whose subprocess froze is {'outcome': 'timeout', 'timeout_s': N}; one that killed the "
    "process is {'outcome': 'aborted', 'returncode': N, 'panic': <Rust panic text or null>}; "
    "'last_note' (when present) says what the case was doing when it froze or died."
)


# -- the reference venv --------------------------------------------------------


def venv_python(venv: Path) -> Path:
    for candidate in (venv / "bin" / "python", venv / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return venv / "bin" / "python"


def reference_version(python: Path) -> str | None:
    try:
        proc = subprocess.run(
            [str(python), "-c", "import offbit_reflow; print(offbit_reflow.__version__)"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def ensure_venv(venv: Path) -> Path:
    """Return the interpreter of a venv holding the reference, creating it if needed."""
    python = venv_python(venv)
    if not python.exists():
        print(f"creating the reference venv {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv_python(venv)
    version = reference_version(python)
    if version != REFERENCE_VERSION:
        print(f"installing {REFERENCE} into {venv} (found {version!r}) ...", file=sys.stderr)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", REFERENCE], check=True)
        version = reference_version(python)
        if version != REFERENCE_VERSION:
            raise SystemExit(f"{venv}: could not get {REFERENCE} (import gives version {version!r})")
    return python


# -- running cases -------------------------------------------------------------

_PANIC = re.compile(r"panicked at ([^\n]*?):?\n(.*?)(?:\n\s*\n|\nnote: |\n[Ss]tack backtrace|\Z)", re.S)


def panic_text(stderr: str) -> str | None:
    """The last Rust panic in ``stderr`` as ``<location>: <message>`` (thread name dropped)."""
    matches = _PANIC.findall(stderr)
    if not matches:
        return None
    location, message = matches[-1]
    location = re.sub(r"^/.*?/(crates/|src/)", r"\1", location.strip())
    location = re.sub(r"^.*?/\.cargo/registry/src/[^/]+/", "<cargo>/", location)
    return f"{location}: {message.strip()}"


def _pump(stream: Any, sink: queue.Queue[str | None]) -> None:
    for line in iter(stream.readline, ""):
        sink.put(line)
    sink.put(None)


def _kill(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


class ProbeRunner:
    def __init__(self, python: Path, verbose: bool) -> None:
        self.python = python
        self.verbose = verbose

    def _cmd(self, module: str, *args: str) -> list[str]:
        return [str(self.python), "-X", "utf8", str(PROBES_DIR / "_runner.py"), module, *args]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env["PYTHONHASHSEED"] = "0"
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["RUST_BACKTRACE"] = "0"
        env["RUST_LIB_BACKTRACE"] = "0"
        return env

    def info(self, module: str) -> dict[str, Any]:
        proc = subprocess.run(
            self._cmd(module, "--list"), capture_output=True, text=True, timeout=120, env=self._env()
        )
        if proc.returncode != 0:
            raise SystemExit(f"probe {module}: --list failed:\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def build(self, module: str, results: dict[str, Any]) -> dict[str, Any]:
        proc = subprocess.run(
            self._cmd(module, "--build"),
            input=json.dumps(results),
            capture_output=True,
            text=True,
            timeout=120,
            env=self._env(),
        )
        if proc.returncode != 0:
            raise SystemExit(f"probe {module}: --build failed:\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def run_batch(self, module: str, names: list[str], timeouts: dict[str, float]) -> dict[str, Any]:
        """Run ``names`` in one process; return the results obtained before it ended."""
        results: dict[str, Any] = {}
        proc = subprocess.Popen(
            self._cmd(module, *names),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=self._env(),
            cwd=str(PROBES_DIR),
            start_new_session=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        errors: list[str] = []
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        err_thread = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
        err_thread.start()
        current: str | None = None
        last_note: str | None = None
        deadline = time.monotonic() + 120.0  # for interpreter start-up and import
        timed_out = False
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                timed_out = True
                _kill(proc)
                break
            if line is None:
                break
            if line.startswith("@@START "):
                current = line[len("@@START ") :].strip()
                last_note = None
                deadline = time.monotonic() + timeouts[current]
                if self.verbose:
                    print(f"  {module}: {current}", file=sys.stderr)
            elif line.startswith("@@NOTE "):
                last_note = line[len("@@NOTE ") :].rstrip("\n")
            elif line.startswith("@@RESULT ") and current is not None:
                results[current] = json.loads(line[len("@@RESULT ") :])
                current = None
                deadline = time.monotonic() + 60.0
        try:
            returncode = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            _kill(proc)
            returncode = proc.wait()
        err_thread.join(timeout=10)
        stderr = "".join(errors)
        if current is not None:
            if timed_out:
                results[current] = {"outcome": "timeout", "timeout_s": timeouts[current]}
            else:
                results[current] = {
                    "outcome": "aborted",
                    "returncode": returncode,
                    "panic": panic_text(stderr),
                }
            if last_note is not None:
                results[current]["last_note"] = last_note
            print(f"  {module}: case {current!r}: {results[current]['outcome']}", file=sys.stderr)
        elif returncode != 0 and len(results) < len(names):
            raise SystemExit(f"probe {module}: runner died outside a case (rc {returncode}):\n{stderr[-3000:]}")
        return results

    def run_module(self, module: str) -> tuple[str, dict[str, Any]]:
        info = self.info(module)
        order = [name for name, _t in info["cases"]]
        timeouts = {name: float(t) for name, t in info["cases"]}
        results: dict[str, Any] = {}
        remaining = list(order)
        while remaining:
            batch = remaining[:1] if info["isolate"] else remaining
            got = self.run_batch(module, batch, timeouts)
            if not got:
                raise SystemExit(f"probe {module}: no progress on {batch[0]!r}")
            results.update(got)
            remaining = [name for name in remaining if name not in results]
        return info["golden"], {name: results[name] for name in order}


# -- output ---------------------------------------------------------------------


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def probe_errors(value: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        if "probe_error" in value:
            found.append(f"{path}: {value['probe_error']}")
        for key, item in value.items():
            found.extend(probe_errors(item, f"{path}/{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(probe_errors(item, f"{path}/{index}"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("probes", nargs="*", help=f"probe modules to run (default: all of {', '.join(PROBES)})")
    parser.add_argument(
        "--venv",
        default=os.environ.get("REFLOW_REFERENCE_VENV") or DEFAULT_VENV,
        help="venv holding the reference (default: $REFLOW_REFERENCE_VENV or %(default)s)",
    )
    parser.add_argument("--out", default=str(GOLDEN_DIR), help="golden directory (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="record and compare with the files; write nothing")
    parser.add_argument("--list", action="store_true", help="list the probes and their cases")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each case as it runs")
    args = parser.parse_args(argv)

    unknown = [p for p in args.probes if p not in PROBES]
    if unknown:
        parser.error(f"unknown probe(s) {unknown}; known: {list(PROBES)}")
    python = ensure_venv(Path(args.venv))
    runner = ProbeRunner(python, args.verbose)
    out_dir = Path(args.out)
    if args.list:
        for module in args.probes or PROBES:
            info = runner.info(module)
            print(f"{module} -> {info['golden']} ({'isolated' if info['isolate'] else 'batched'})")
            for name, timeout in info["cases"]:
                print(f"    {name}  [{timeout:g}s]")
        return 0

    status = 0
    for module in args.probes or PROBES:
        started = time.monotonic()
        golden, results = runner.run_module(module)
        document = runner.build(module, results)
        died = sorted(
            f"{name}: {result['outcome']}"
            for name, result in results.items()
            if isinstance(result, dict) and result.get("outcome") in ("aborted", "timeout")
        )
        about = dict(document.get("_about", {}))
        if isinstance(about.get("text"), str):
            about["text"] = " ".join(about["text"].split())
        document["_about"] = {
            **about,
            "cases_that_froze_or_aborted_the_reference": died,
            "reference": REFERENCE,
            "recorded_by": f"tests/compat/record_reference.py (probe: tests/compat/probes/{module}.py)",
            "encoding": ENCODING,
        }
        problems = probe_errors(document)
        for problem in problems:
            print(f"PROBE ERROR in {module}{problem}", file=sys.stderr)
        if problems:
            status = 1
        text = render(document)
        target = out_dir / golden
        elapsed = time.monotonic() - started
        if args.check:
            same = target.exists() and target.read_text(encoding="utf-8") == text
            print(f"{golden}: {'identical' if same else 'DIFFERENT'} ({elapsed:.1f}s)")
            if not same:
                status = 1
                old = target.read_text(encoding="utf-8").splitlines() if target.exists() else []
                diff = list(difflib.unified_diff(old, text.splitlines(), str(target), "(re-recorded)", lineterm=""))
                print("\n".join(diff[:80]))
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"{golden}: written ({len(results)} cases, {elapsed:.1f}s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
