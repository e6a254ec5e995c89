"""Shared helpers for the reference probes (stdlib only; runs inside the reference venv).

A probe module defines ``GOLDEN`` (the output file name), ``ABOUT`` (a text
stored in the golden file), a list of cases registered with :func:`case`, and
optionally ``build(results)`` that turns ``{case name: result}`` into the
golden document (default: ``{"cases": results}``).  ``ISOLATE = True`` makes
the recorder run every case in a fresh interpreter (used for anything that
starts a network, so process-global counters and leftover threads of one case
never leak into the next).

Value encoding (used by every golden file, inputs and outputs alike):

* JSON-native values (``null``, booleans, ints, finite floats, strings, lists,
  objects with string keys) stand for themselves;
* a JSON object with the single key ``"$py"`` stands for a Python value that is
  not JSON-native: on input the text is evaluated (``eval``) in a namespace
  holding ``Message`` (the implementation under test), ``math`` and
  ``IntEnum``; on output the text is an ``eval``-able ``repr`` (``b'ab'``,
  ``float('nan')``, ``(1, 2)``) or, for objects whose repr is not evaluable,
  the repr with addresses normalised;
* a JSON object with the single key ``"$message"`` (outputs only) is a
  ``Message`` object, given by its ``as_json()``.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tempfile
import traceback
from enum import IntEnum
from typing import Any, Callable

CASES: list[tuple[str, Callable[[], Any], float]] = []


def case(name: str, timeout: float = 15.0) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    """Register ``fn`` as the probe case ``name`` (``timeout`` in seconds)."""

    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        CASES.append((name, fn, timeout))
        return fn

    return register


def note(text: str) -> None:
    """Tell the recorder what the case is about to do (kept as 'last_note' if the process dies)."""
    sys.stdout.write("@@NOTE " + normalize(text).replace("\n", " ") + "\n")
    sys.stdout.flush()


def add_case(name: str, fn: Callable[[], Any], timeout: float = 15.0) -> None:
    CASES.append((name, fn, timeout))


# -- value encoding -----------------------------------------------------------


def decode(value: Any, message_cls: Any = None) -> Any:
    """Turn an encoded input into the Python value it describes."""
    if isinstance(value, dict):
        if set(value) == {"$py"}:
            namespace = {"Message": message_cls, "math": math, "IntEnum": IntEnum}
            return eval(value["$py"], namespace)  # noqa: S307 - trusted probe table
        return {k: decode(v, message_cls) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v, message_cls) for v in value]
    return value


def encode(value: Any) -> Any:
    """Turn a Python value into its JSON-describable encoding (see module doc)."""
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        if math.isnan(value):
            return {"$py": "float('nan')"}
        if math.isinf(value):
            return {"$py": "float('inf')" if value > 0 else "float('-inf')"}
        return value
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: encode(v) for k, v in value.items()}
    if hasattr(value, "as_json") and type(value).__name__ == "Message":
        return {"$message": encode(value.as_json())}
    return {"$py": normalize(repr(value))}


def json_type(value: Any) -> str:
    """The JSON type name of a (decoded) value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "python:" + type(value).__name__


# -- exceptions and text normalisation ---------------------------------------

_HEX = re.compile(r"0x[0-9a-fA-F]{4,}")


def normalize(text: str) -> str:
    """Strip machine-specific parts (addresses, venv and temp paths) from a text."""
    text = _HEX.sub("0x…", text)
    prefix = sys.prefix
    if prefix and prefix != "/":
        text = text.replace(prefix, "<venv>")
    tmp = tempfile.gettempdir()
    text = re.sub(re.escape(tmp) + r"/[^\s'\":,)]*", "<tmp>/…", text)
    return text


def builtin_base(exc_type: type) -> str:
    for klass in exc_type.__mro__:
        if klass.__module__ == "builtins":
            return klass.__name__
    return "?"


def describe_exc(exc: BaseException) -> dict[str, Any]:
    info = {"type": type(exc).__name__, "text": normalize(str(exc))}
    base = builtin_base(type(exc))
    if base != info["type"]:
        info["builtin"] = base
    return info


def attempt(fn: Callable[[], Any], conv: Callable[[Any], Any] = encode) -> dict[str, Any]:
    """``{"value": conv(fn())}`` or ``{"error": {"type", "text"}}``."""
    try:
        value = fn()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 PanicException is a BaseException
        return {"error": describe_exc(exc)}
    return {"value": conv(value)}


def error_of(fn: Callable[[], Any]) -> Any:
    """The ``{"type", "text"}`` of the exception ``fn()`` raises, or ``None`` if it returns."""
    try:
        fn()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001
        return describe_exc(exc)
    return None


def format_probe_error() -> str:
    return normalize(traceback.format_exc())


def here(*parts: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), *parts)
