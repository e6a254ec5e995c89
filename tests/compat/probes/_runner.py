"""Run probe cases of one probe module and stream their results on stdout.

Usage (inside the reference venv)::

    python _runner.py MODULE --list          # {"golden", "isolate", "cases": [[name, timeout], ...]}
    python _runner.py MODULE --build         # stdin: {name: result}; stdout: the golden document
    python _runner.py MODULE NAME [NAME...]  # run these cases in this order

Protocol when running cases: a line ``@@START <name>`` is printed before a case
runs and a line ``@@RESULT <json>`` after it.  Anything else on stdout is
ignored by the recorder.  The process leaves with ``os._exit`` so that
interpreter shutdown (the reference's atexit hook, leftover runtime threads)
cannot change the outcome.
"""

from __future__ import annotations

import importlib
import json
import os
import sys


def main(argv: list[str]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _harness

    module = importlib.import_module(argv[0])
    cases = {name: (fn, timeout) for name, fn, timeout in _harness.CASES}
    out = sys.stdout
    if argv[1:] == ["--list"]:
        info = {
            "golden": module.GOLDEN,
            "isolate": bool(getattr(module, "ISOLATE", False)),
            "cases": [[name, timeout] for name, _fn, timeout in _harness.CASES],
        }
        out.write(json.dumps(info) + "\n")
        out.flush()
        os._exit(0)
    if argv[1:] == ["--build"]:
        results = json.load(sys.stdin)
        build = getattr(module, "build", None)
        document = build(results) if build is not None else {"cases": results}
        out.write(json.dumps(document, sort_keys=True, allow_nan=False) + "\n")
        out.flush()
        os._exit(0)
    for name in argv[1:]:
        fn, _timeout = cases[name]
        out.write(f"@@START {name}\n")
        out.flush()
        try:
            result = fn()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - a bug in the probe itself
            result = {"probe_error": _harness.format_probe_error()}
        try:
            line = json.dumps(result, sort_keys=True, allow_nan=False, ensure_ascii=True)
        except (TypeError, ValueError) as exc:
            line = json.dumps({"probe_error": f"result of {name} is not JSON: {exc}: {result!r:.500}"})
        out.write(f"@@RESULT {line}\n")
        out.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
