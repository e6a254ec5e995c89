"""Graph exports and queries against ``golden/graph_exports.json`` (offbit-reflow 0.2.9).

``probes/graph.py`` built graphs through the reference's Graph API and
recorded ``to_json()`` and every query method. ``tests/graph/`` round-trips
exports recorded separately (``tests/graph/data/``) and replays the API call by
call; this module covers the compat goldens themselves: each golden export is
loaded with :meth:`reflow_cli.Graph.from_json`, must export back identically
(sorted keys), and the getters (``nodes()``, ``get_node()``,
``get_connection()``, ``connections()``, ``initializers()``, ``inports()``,
``outports()``, ``groups()``, ``properties()``) must give what the reference
returned for the same graph. The reference's own reload of its export
(``from_json_roundtrip``) and ``Graph.from_json``'s errors are replayed too.

Exports that only a reference bug can produce (a group naming a removed or
merged node, IIP data that is not a message) are refused by our graph helper
with ``GraphError``; those rows assert the refusal and its reason.

* ``DEVIATIONS``: where we *deliberately* differ (reason and **our** value,
  asserted, never skipped).
* ``KNOWN_BUGS``: differences that should not exist (``xfail(strict=True)``).
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import Graph
from reflow_cli import errors as reflow_errors

GOLDEN_FILE = Path(__file__).resolve().parent / "golden" / "graph_exports.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]

GETTERS = ("connections", "initializers", "inports", "outports", "groups", "properties")

# -- why we differ ------------------------------------------------------------------

RELOADS_IDENTICALLY = (
    "our exports reload identically (from_json(to_json()) is the same graph); the reference "
    "changes some of its own exports on reload (lower-cased ids, lost IIP edge fields) and "
    "aborts on others (stale IIP indexes)"
)
REFUSED_EXPORT = (
    "the export holds what only a reference bug produces (see its Graph API calls); our graph "
    "helper refuses it with GraphError instead of carrying the inconsistency along"
)
INDEX_CHECKED = (
    "add_initial_index/add_graph_initial_index with an index past the IIPs raise GraphError; "
    "the reference aborts the process (index out of bounds)"
)
NAME_REQUIRED = "a document without properties.name raises GraphFormatError; the reference aborts the process"
REMOVE_NODE_WORKS = (
    "remove_node of a node with several connections removes them all, every time; the reference "
    "aborts in about half of the runs (hash-map order)"
)
PROPERTIES_WITHOUT_NAME = (
    "properties() never lists the graph's name (it is exported under properties.name); the "
    "reference lists it after import_graph but not otherwise"
)


@dataclass(frozen=True)
class Deviation:
    reason: str
    result: Any = None


# -- comparison ------------------------------------------------------------------------------


class Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"<raised {type(self.exc).__name__}: {self.exc}>"


def attempt(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        return Raised(exc)


def error(builtin: str, text: str = "", ours: str | None = None) -> dict[str, Any]:
    info = {"type": ours or builtin, "text": text}
    if ours:
        info["builtin"] = builtin
    return {"error": info}


def key_facts(text: str) -> list[str]:
    facts = re.findall(r"`([^`]*)`", text)
    facts += [name for name in re.findall(r"'([A-Za-z_][A-Za-z_0-9]*)'", text) if not name.startswith("Py")]
    return facts


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def compare(expected: Any, got: Any, where: str) -> None:
    if isinstance(expected, dict) and set(expected) == {"error"}:
        info = expected["error"]
        builtin_name = info.get("builtin", info["type"])
        assert isinstance(got, Raised), f"{where}: expected {builtin_name} ({info['text']!r}), got {got!r}"
        assert isinstance(got.exc, getattr(builtins, builtin_name)), f"{where}: {got!r} is not a {builtin_name}"
        ours = getattr(reflow_errors, info["type"], None)
        if isinstance(ours, type):
            assert isinstance(got.exc, ours), f"{where}: {got!r} is not a {info['type']}"
        missing = [fact for fact in key_facts(info["text"]) if fact not in str(got.exc)]
        assert not missing, f"{where}: {got!r} does not mention {missing} (reference: {info['text']!r})"
        return
    assert not isinstance(got, Raised), f"{where}: expected {expected!r}, got {got!r}"
    assert canonical(got) == canonical(expected), f"{where}: {got!r} != {expected!r}"


# -- what the golden holds ------------------------------------------------------------------------


def exports() -> dict[str, dict[str, Any]]:
    """Every recorded graph with an export: ``{label: {"to_json", "queries", "calls"?, ...}}``."""
    found = {name: case for name, case in GOLDEN.items() if isinstance(case, dict) and "to_json" in case}
    for label, case in GOLDEN["defaults"].items():
        if isinstance(case, dict) and "to_json" in case:
            found[f"defaults/{label}"] = case
    return found


EXPORTS = exports()


def recorded_lookups(case: dict[str, Any]) -> list[tuple[str, str, tuple[Any, ...], Any]]:
    """The get_node/get_connection calls the probe made, with what they returned (None if nothing)."""
    out = []
    for call in case.get("calls", ()):
        text = call if isinstance(call, str) else call["call"]
        match = re.fullmatch(r"g\.(get_node|get_connection)\((.*)\)", text)
        if match is None or (isinstance(call, dict) and "returned" not in call):
            continue
        args = ast.literal_eval(f"({match.group(2)},)")
        out.append((text, match.group(1), args, call["returned"] if isinstance(call, dict) else None))
    return out


def load(label: str) -> Any:
    """The golden export of ``label`` loaded with our Graph.from_json (or what it raised)."""
    return attempt(lambda: Graph.from_json(EXPORTS[label]["to_json"]))


def on_graph(graph: Any, fn: Callable[[Graph], Any]) -> Any:
    """``fn(graph)``, or the refusal when the export could not be loaded."""
    return graph if isinstance(graph, Raised) else fn(graph)


def queries(graph: Graph) -> dict[str, Any]:
    out: dict[str, Any] = {"nodes_sorted": sorted(graph.nodes(), key=lambda n: n["id"])}
    out.update({name: getattr(graph, name)() for name in GETTERS})
    return out


def reloads_identically(graph: Graph) -> dict[str, bool]:
    return {"equal": canonical(Graph.from_json(graph.to_json()).to_json()) == canonical(graph.to_json())}


# -- the rows ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    golden: Callable[[], Any]
    ours: Callable[[], Any]


ROWS: dict[str, Row] = {}

for _label, _case in EXPORTS.items():
    ROWS[f"{_label}/to_json"] = Row(lambda c=_case: c["to_json"], lambda lb=_label: on_graph(load(lb), Graph.to_json))
    ROWS[f"{_label}/queries"] = Row(lambda c=_case: c["queries"], lambda lb=_label: on_graph(load(lb), queries))
    ROWS[f"{_label}/get_node"] = Row(
        lambda c=_case: {n["id"]: n for n in c["queries"]["nodes_sorted"]},
        lambda lb=_label: on_graph(load(lb), lambda g: {n["id"]: g.get_node(n["id"]) for n in g.nodes()}),
    )
    for _text, _method, _args, _returned in recorded_lookups(_case):
        ROWS[f"{_label}/{_text}"] = Row(
            lambda r=_returned: r,
            lambda lb=_label, m=_method, a=_args: on_graph(load(lb), lambda g: getattr(g, m)(*a)),
        )
    if "from_json_roundtrip" in _case:
        ROWS[f"{_label}/from_json_roundtrip"] = Row(
            lambda c=_case: c["from_json_roundtrip"], lambda lb=_label: on_graph(load(lb), reloads_identically)
        )


def graph_constructor(args: tuple[Any, ...], kwargs: dict[str, Any] | None = None) -> Any:
    value = attempt(lambda: Graph(*args, **(kwargs or {})).to_json())
    return value if isinstance(value, Raised) else {"returned": value}


ROWS["defaults/Graph(5)"] = Row(lambda: GOLDEN["defaults"]["Graph(5)"], lambda: graph_constructor((5,)))
ROWS["defaults/Graph('n', 'yes')"] = Row(
    lambda: GOLDEN["defaults"]["Graph('n', 'yes')"], lambda: graph_constructor(("n", "yes"))
)
ROWS["defaults/Graph(name='k', case_sensitive=True)"] = Row(
    lambda: GOLDEN["defaults"]["Graph(name='k', case_sensitive=True)"],
    lambda: graph_constructor((), {"name": "k", "case_sensitive": True}),
)

_BASE = Graph("x", False).to_json()
# The probe's inputs, by label. "json text" fails in both, for different reasons: the reference
# takes dicts only, we parse the text (tests/graph/test_graph_json.py::
# test_from_json_accepts_json_text_and_bytes) and then miss `properties`; both are RuntimeErrors.
FROM_JSON_INPUTS: dict[str, Any] = {
    "json text": '{"caseSensitive": false}',
    "empty dict": {},
    "missing caseSensitive": {k: v for k, v in _BASE.items() if k != "caseSensitive"},
    "processes as list": {**_BASE, "processes": []},
    "connections as dict": {**_BASE, "connections": {}},
    "process missing component": {**_BASE, "processes": {"a": {"id": "a"}}},
    "only caseSensitive and properties": {"caseSensitive": False, "properties": {"name": "min"}},
    "unknown top-level key": {**_BASE, "extra": 1},
    "None": None,
}
for _entry in GOLDEN["from_json_errors"]:
    ROWS[f"from_json_errors/{_entry['input']}"] = Row(
        lambda e=_entry: {k: v for k, v in e.items() if k != "input"},
        lambda value=FROM_JSON_INPUTS[_entry["input"]]: on_graph(
            attempt(lambda: Graph.from_json(value)), lambda g: {"to_json": g.to_json()}
        ),
    )
ROWS["from_json_without_name"] = Row(
    lambda: GOLDEN["from_json_without_name"],
    lambda: attempt(lambda: Graph.from_json({"caseSensitive": False, "properties": {}})),
)


def index_out_of_range(graph_initial: bool) -> Any:
    """The probe's calls; the last one (an index past the IIPs) aborted the reference."""
    g = Graph("iips" if not graph_initial else "ports", False)
    g.add_node("a", "tpl")
    i21 = {"type": "Integer", "data": 21}
    if graph_initial:
        g.add_inport("in", "a", "in")
        g.add_graph_initial("in", i21)
        return attempt(lambda: g.add_graph_initial_index("in", i21, 3))
    g.add_initial("a", "in", i21)
    return attempt(lambda: g.add_initial_index("a", "in", i21, 5))


ROWS["initial_index_out_of_range"] = Row(
    lambda: GOLDEN["initial_index_out_of_range"], lambda: index_out_of_range(False)
)
ROWS["graph_initial_index_out_of_range"] = Row(
    lambda: GOLDEN["graph_initial_index_out_of_range"], lambda: index_out_of_range(True)
)


def remove_node_twice_connected() -> Any:
    """The probe's FLAKY_SCRIPT, printing what it printed."""
    g = Graph("remove", False)
    for n in ("a", "b", "c"):
        g.add_node(n, "tpl")
    g.add_connection("a", "out", "b", "in")
    g.add_connection("b", "out", "c", "in")
    g.remove_node("b")
    return {"output": f"{sorted(g.to_json()['processes'])} {len(g.to_json()['connections'])}", "aborts": False}


ROWS["remove_node_flaky"] = Row(
    lambda: {"output": GOLDEN["remove_node_flaky"]["output_when_ok"][0], "aborts": True},
    remove_node_twice_connected,
)


REFUSALS = {
    "initials": error(
        "ValueError", "initial packet data is not a tagged message: invalid type: integer `5`", ours="GraphFormatError"
    ),
    "remove_node": error("ValueError", "group 'grp' lists node 'b', which does not exist", ours="GraphError"),
    "rename": error("ValueError", "group 'grp' lists node 'source' twice", ours="GraphError"),
}
REFUSED_WHY = {
    "initials": "add_initial('a', 'raw', 5) stored data that is not a message (reference bug 18)",
    "remove_node": "remove_node('b') left 'b' in its group (reference bug 18)",
    "rename": "rename_node('dst', 'source') merged two nodes, leaving 'source' twice in the group",
}

OUT_OF_RANGE = error("ValueError", "index", ours="GraphError")

DEVIATIONS: dict[str, Deviation] = {
    "import_graph/queries": Deviation(
        PROPERTIES_WITHOUT_NAME, result={**GOLDEN["import_graph"]["queries"], "properties": {}}
    ),
    "initial_index_out_of_range": Deviation(INDEX_CHECKED, result=OUT_OF_RANGE),
    "graph_initial_index_out_of_range": Deviation(INDEX_CHECKED, result=OUT_OF_RANGE),
    "from_json_without_name": Deviation(
        NAME_REQUIRED, result=error("RuntimeError", "missing field `name`", ours="GraphFormatError")
    ),
    "remove_node_flaky": Deviation(REMOVE_NODE_WORKS, result={"output": "['a', 'c'] 0", "aborts": False}),
}
for _label, _case in EXPORTS.items():
    roundtrip = _case.get("from_json_roundtrip")
    if roundtrip is not None and roundtrip != {"equal": True} and _label not in REFUSALS:
        DEVIATIONS[f"{_label}/from_json_roundtrip"] = Deviation(RELOADS_IDENTICALLY, result={"equal": True})
for _label, _refusal in REFUSALS.items():
    for _row_id in [r for r in ROWS if r.startswith(f"{_label}/")]:
        DEVIATIONS[_row_id] = Deviation(f"{REFUSED_EXPORT}: {REFUSED_WHY[_label]}", result=_refusal)

#: Differences that are bugs in reflow_cli/graph.py (xfail(strict=True) until fixed). None known.
KNOWN_BUGS: dict[str, str] = {}


def expected_result(row_id: str, golden: Any) -> Any:
    deviation = DEVIATIONS.get(row_id)
    return golden if deviation is None else deviation.result


def marks(row_id: str) -> list[Any]:
    return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[row_id])] if row_id in KNOWN_BUGS else []


@pytest.mark.parametrize("row_id", [pytest.param(r, id=r, marks=marks(r)) for r in ROWS])
def test_replay(row_id: str) -> None:
    spec = ROWS[row_id]
    compare(expected_result(row_id, spec.golden()), spec.ours(), row_id)


def test_every_golden_case_is_replayed() -> None:
    cases = {row_id.split("/")[0] for row_id in ROWS}
    assert cases == set(GOLDEN)
    assert set(FROM_JSON_INPUTS) == {e["input"] for e in GOLDEN["from_json_errors"]}


def test_deviation_tables_name_rows() -> None:
    assert not (set(DEVIATIONS) - set(ROWS)), "stale DEVIATIONS entries"
    assert not (set(KNOWN_BUGS) - set(ROWS)), "stale KNOWN_BUGS entries"
    assert not (set(DEVIATIONS) & set(KNOWN_BUGS))
    for row_id, deviation in DEVIATIONS.items():
        assert canonical(deviation.result) != canonical(ROWS[row_id].golden()), row_id

