"""``compose_graphs`` against the goldens recorded from offbit-reflow 0.2.9 (``golden/compose.json``).

``tests/compat/probes/compose.py`` recorded, for each case, the exact input
dict and what the reference's ``compose_graphs`` returned (or raised, or that
it aborted the process). Every case is replayed against
:func:`reflow_cli.compose_graphs` and must give the same result, except where
``DEVIATIONS`` says otherwise: each deviation states why and **our** result,
which is asserted (never skipped).

Errors compare as in ``tests/compat/test_messages_compat.py``: an instance of
the builtin class the reference raised (ours derive from those builtins), of
our class when one is named, mentioning the key facts of the text (backticked
tokens, quoted names).
"""

from __future__ import annotations

import builtins
import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import compose_graphs
from reflow_cli import errors as reflow_errors

GOLDEN_FILE = Path(__file__).resolve().parents[1] / "compat" / "golden" / "compose.json"
CASES: dict[str, Any] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]

# -- why we differ -----------------------------------------------------------------------------

INDEXES_KEPT = (
    "a cross-graph connection keeps the edge indexes it was given ({'index': 1}); the reference drops them"
)
SAME_NAMESPACE = (
    "two graphs with the same namespace are a NamespaceConflictError naming both; the reference renames "
    "them both to same_1_1 and merges their nodes into one namespace (losing any node they share)"
)
EMPTY_NAMESPACE = (
    "a graph whose name gives an empty namespace is a NamespaceConflictError; the reference names its "
    "nodes '/a', which no spec can refer to"
)
UNKNOWN_ENDPOINT = (
    "a connection naming a process no graph has is a CompositionConnectionError naming both ends and the "
    "graph's processes; the reference silently drops the connection"
)
MISSING_DEPENDENCY = (
    "a dependency on a graph that is not composed is a DependencyError (a RuntimeError) naming both graphs; "
    "the reference says 'Circular dependency detected', which it is not"
)
CYCLE_NAMED = "a dependency cycle is a DependencyCycleError that names the cycle ('x' -> 'y' -> 'x')"
NO_NAME = (
    "a request without properties.name is a CompositionFormatError (a ValueError); the reference aborts "
    "the whole process (Option::unwrap() on None)"
)


@dataclass(frozen=True)
class Deviation:
    reason: str
    result: Callable[[Any], Any]  # golden result -> ours


def error(builtin: str, text: str, ours: str) -> dict[str, Any]:
    return {"error": {"type": ours, "builtin": builtin, "text": text}}


def kept_indexes(golden: Any) -> Any:
    ours = copy.deepcopy(golden)
    cross = ours["connections"][0]
    cross["from"]["index"], cross["to"]["index"] = 1, 2
    return ours


DEVIATIONS: dict[str, Deviation] = {
    "cross_connection_with_index_and_metadata": Deviation(INDEXES_KEPT, kept_indexes),
    "same_name_twice": Deviation(
        SAME_NAMESPACE,
        lambda _: error("ValueError", "graph #1 ('same') and graph #2 ('same') ... 'same'", "NamespaceConflictError"),
    ),
    "empty_name": Deviation(EMPTY_NAMESPACE, lambda _: error("ValueError", "graph #1 ('')", "NamespaceConflictError")),
    "unknown_cross_endpoints": Deviation(
        UNKNOWN_ENDPOINT,
        lambda _: error("ValueError", "'gsrc/nope' ... 'gsrc' has: gsrc/src", "CompositionConnectionError"),
    ),
    "missing_dependency": Deviation(
        MISSING_DEPENDENCY, lambda _: error("RuntimeError", "graph #1 ('first') depends on 'zzz'", "DependencyError")
    ),
    "circular_dependency": Deviation(
        CYCLE_NAMED, lambda _: error("RuntimeError", "a cycle: 'x' -> 'y' -> 'x'", "DependencyCycleError")
    ),
    "missing_properties": Deviation(
        NO_NAME, lambda _: error("ValueError", "composition parse: missing field `properties`", "CompositionFormatError")
    ),
    "missing_properties_name": Deviation(
        NO_NAME, lambda _: error("ValueError", "composition parse: missing field `name` at properties", "CompositionFormatError")
    ),
}


# -- comparing ------------------------------------------------------------------------------------


def key_facts(text: str) -> list[str]:
    head = re.sub(r"expected one of .*$", "", text)
    facts = re.findall(r"`([^`]*)`", head)
    facts += [name for name in re.findall(r"'([A-Za-z_][A-Za-z_0-9/]*)'", head) if not name.startswith("Py")]
    return facts


# The cases that aborted the reference have no recorded input: probes/compose.py made them from gsrc().
GSRC = CASES["readme_cross_connection"]["input"]["graphs"][0]
ABORTED_INPUTS = {
    "missing_properties_name": {"graphs": [GSRC], "properties": {}},
    "missing_properties": {"graphs": [GSRC]},
}


def ours(name: str) -> Any:
    request = CASES[name]["input"] if name not in ABORTED_INPUTS else ABORTED_INPUTS[name]
    try:
        return {"output": compose_graphs(copy.deepcopy(request))}
    except Exception as exc:  # noqa: BLE001
        return {"raised": exc}


def expected(name: str) -> Any:
    case = CASES[name]
    golden = {"output": case["output"]} if "output" in case else {"error": case.get("error"), "outcome": case.get("outcome")}
    deviation = DEVIATIONS.get(name)
    if deviation is None:
        return golden
    result = deviation.result(golden.get("output", golden))
    return result if "error" in result else {"output": result}


def check(expect: Any, got: Any, name: str) -> None:
    if expect.get("outcome"):
        pytest.fail(f"{name}: the reference {expect['outcome']}; a deviation must say what we do instead")
    if "error" in expect:
        info = expect["error"]
        assert "raised" in got, f"{name}: expected {info}, got {got}"
        exc = got["raised"]
        builtin = info.get("builtin", info["type"])
        assert isinstance(exc, getattr(builtins, builtin)), f"{name}: {exc!r} is not a {builtin}"
        ours_cls = getattr(reflow_errors, info["type"], None)
        if isinstance(ours_cls, type):
            assert isinstance(exc, ours_cls), f"{name}: {exc!r} is not a {info['type']}"
        assert isinstance(exc, reflow_errors.CompositionError), f"{name}: {exc!r} is not a CompositionError"
        missing = [fact for fact in key_facts(info["text"]) if fact not in str(exc)]
        assert not missing, f"{name}: {exc} does not mention {missing} (expected: {info['text']!r})"
        return
    assert "output" in got, f"{name}: raised {got.get('raised')!r}"
    assert json.dumps(got["output"], sort_keys=True) == json.dumps(expect["output"], sort_keys=True)
    assert got["output"] == expect["output"]  # the same key order too (maps sorted, as the reference's)


@pytest.mark.parametrize("name", sorted(CASES))
def test_replay(name: str) -> None:
    check(expected(name), ours(name), name)


def test_the_goldens_are_all_there() -> None:
    assert len(CASES) == 28
    assert set(DEVIATIONS) <= set(CASES)


def test_every_deviation_differs_from_the_reference() -> None:
    for name, deviation in DEVIATIONS.items():
        case = CASES[name]
        golden = case.get("output", case.get("error", case.get("outcome")))
        assert deviation.result(copy.deepcopy(golden)) != golden, name
        assert deviation.reason


def test_cases_that_aborted_the_reference_are_deviations() -> None:
    aborted = {name for name, case in CASES.items() if "outcome" in case}
    assert aborted == {"missing_properties", "missing_properties_name"}
    assert aborted <= set(DEVIATIONS)
