"""Registration, lookup, NetworkConfig, EventStream.recv, signatures: ``golden/misc.json``.

``probes/misc.py`` recorded these facts on offbit-reflow 0.2.9; each row below
replays one of them against ``reflow_cli``. A version number is not an API fact and is
not compared. (compose_graphs itself is replayed in
``tests/compose/test_golden.py``.)

* ``DEVIATIONS``: where we *deliberately* differ (reason and **our** value,
  asserted, never skipped).
* ``KNOWN_BUGS``: differences that should not exist (``xfail(strict=True)``).

Errors compare as in ``test_messages_compat.py``: an instance of the builtin
class the reference raised, mentioning the key facts of its text (backticked
tokens, quoted names); where the expected error names one of our classes,
ours must be an instance of it too.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import reflow_cli
from reflow_cli import Actor, Graph, Message, Network, RunState, template_actor
from reflow_cli import errors as reflow_errors

GOLDEN_FILE = Path(__file__).resolve().parent / "golden" / "misc.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]

TEMPLATE_IS_COMPONENT = (
    "template_actor(id) returns the catalog component itself (an Actor subclass: register_actor builds "
    "one instance per node with the node's config); the reference returns a shared native Actor instance"
)

# -- why we differ ------------------------------------------------------------------

CLASSES_REGISTRABLE = (
    "register_actor takes an Actor instance (shared by its nodes, as in the reference), an Actor "
    "subclass or a factory(config) (one instance per node); the reference takes instances only"
)
DUPLICATE_NODE = (
    "a second add_node with the same id raises GraphError (a ValueError); the reference ignores it silently"
)
IIP_MESSAGES = "add_initial takes Message objects as well as tagged dicts; the reference refuses Messages (its bug 16)"
NODES_CHECKED = (
    "add_connection/add_initial naming an unknown node raise GraphError (a ValueError) at once; "
    "the reference accepts them and then aborts the whole process in start()"
)
CONFIG_IGNORED = (
    "Network(config) accepts any dict (the reference's NetworkConfig, or {}) and ignores it; "
    "the reference requires every NetworkConfig field"
)
RECV_DEFAULT = (
    "EventStream.recv(timeout_ms=None): None waits until an event comes or the network has "
    "stopped, 0 polls; the reference's default 0 means 'block forever'"
)
FROM_GRAPH_WORKS = "Network.from_graph works; the reference always aborts the process (no Tokio reactor)"
MESSAGE_VALUES = (
    "Messages compare by value and print as their tagged dict ({'data': 1, 'type': 'Integer'}); "
    "the reference compares identities and prints <reflow._native.Message object at 0x…>"
)
KIND_PROPERTY = "Message.kind is a Python property (pyo3's getset_descriptor is the same read-only attribute)"
TUPLE_PORTS = (
    "Actor.inports/outports default to empty tuples, not lists, so no subclass can mutate a "
    "default shared by all actors; declare ports with lists or tuples alike"
)


@dataclass(frozen=True)
class Deviation:
    reason: str
    result: Any = None


# -- codec and comparison -------------------------------------------------------------------


class Raised:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"<raised {type(self.exc).__name__}: {self.exc}>"


def err(fn: Callable[[], Any]) -> Any:
    """As the probe's err(): ``{"returned": value}``, ``{"returned_type": name}`` or the exception."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001
        return Raised(exc)
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return {"returned": value}
    return {"returned_type": type(value).__name__}


def error(builtin: str, text: str = "", ours: str | None = None) -> dict[str, Any]:
    info = {"type": ours or builtin, "text": text}
    if ours:
        info["builtin"] = builtin
    return {"error": info}


def key_facts(text: str) -> list[str]:
    head = re.sub(r"expected one of .*$", "", text)
    facts = re.findall(r"`([^`]*)`", head)
    facts += [name for name in re.findall(r"'([A-Za-z_][A-Za-z_0-9]*)'", head) if not name.startswith("Py")]
    return facts


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
    if isinstance(expected, dict) and isinstance(got, dict) and any(isinstance(v, Raised) for v in got.values()):
        assert sorted(expected) == sorted(got), f"{where}: keys {sorted(got)} != {sorted(expected)}"
        for key in expected:
            compare(expected[key], got[key], f"{where}.{key}")
        return
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True), f"{where}: {got!r} != {expected!r}"


def _default(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else repr(value)


def text_signature(fn: Any, method: bool, length: int | None = None) -> str | None:
    """pyo3-style ``__text_signature__`` of ``fn`` for its first ``length`` parameters.

    Parameters beyond ``length`` are extensions of ours; they must have defaults
    (or be ``**kwargs``), else the full signature is returned so the row fails.
    """
    parameters = list(inspect.signature(fn).parameters.values())[1 if method else 0 :]
    extra = parameters[length:] if length is not None else []
    if any(p.default is inspect.Parameter.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in extra):
        length = None
    parts = ["$self"] if method else []
    for p in parameters[:length]:
        parts.append(p.name if p.default is inspect.Parameter.empty else f"{p.name}={_default(p.default)}")
    return f"({', '.join(parts)})"


def reference_length(signature: str | None) -> int:
    if not signature or signature == "()" or signature == "($self)":
        return 0
    return len([p for p in signature.strip("()").split(", ") if p != "$self"])


# -- the scenarios (as probes/misc.py) ----------------------------------------------------------


class Noop(Actor):
    component = "noop"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done()


@functools.cache
def registration() -> dict[str, Any]:
    """The probe's calls in its order, on one network."""
    net = Network()
    return {
        "register_python_actor": err(lambda: net.register_actor("tpl_s", Noop())),
        "register_same_id_again": err(lambda: net.register_actor("tpl_s", Noop())),
        "register_template_actor": err(lambda: net.register_actor("tpl_p", template_actor("tpl_passthrough"))),
        "register_template_same_id_again": err(
            lambda: net.register_actor("tpl_p", template_actor("tpl_passthrough"))
        ),
        "register_non_actor": err(lambda: net.register_actor("tpl_x", object())),
        "register_actor_class_not_instance": err(lambda: net.register_actor("tpl_c", Noop)),
        "register_non_str_id": err(lambda: net.register_actor(5, Noop())),  # type: ignore[arg-type]
        "add_node_unknown_template": err(lambda: net.add_node("n", "tpl_unknown")),
        "add_node": err(lambda: net.add_node("n1", "tpl_s")),
        "add_node_duplicate_id": err(lambda: net.add_node("n1", "tpl_p")),
        "add_initial_message_object": err(lambda: net.add_initial("n1", "in", Message.integer(1))),
        "add_initial_raw_int": err(lambda: net.add_initial("n1", "in", 5)),
        "add_initial_bad_tag": err(lambda: net.add_initial("n1", "in", {"type": "Nope"})),
        "add_initial_tagged": err(lambda: net.add_initial("n1", "in", {"type": "Integer", "data": 1})),
        "add_connection_unknown_nodes": err(lambda: net.add_connection("ghost", "out", "n1", "in")),
    }


@functools.cache
def templates_lookup() -> dict[str, Any]:
    return {
        "template_actor_unknown": err(lambda: template_actor("nope")),
        "template_actor_non_str": err(lambda: template_actor(5)),  # type: ignore[arg-type]
        "template_actor_known": err(lambda: template_actor("tpl_passthrough")),
        "native_actor_members": [m for m in GOLDEN["templates_lookup"]["native_actor_members"] if hasattr(Actor, m)],
        "from_callback_signature": text_signature(Actor.from_callback, method=False),
    }


FULL_CONFIG = GOLDEN["network_config"]["full_config_used"]


@functools.cache
def network_config() -> dict[str, Any]:
    return {
        "Network()": err(lambda: Network()),
        "Network(config=None)": err(lambda: Network(config=None)),
        "Network({})": err(lambda: Network({})),
        "Network({'compression': {'enabled': False}})": err(lambda: Network({"compression": {"enabled": False}})),
        "Network(full config, tracing disabled)": err(lambda: Network(FULL_CONFIG)),
        "Network(5)": err(lambda: Network(5)),  # type: ignore[arg-type]
        "Network('x')": err(lambda: Network("x")),  # type: ignore[arg-type]
    }


@functools.cache
def event_stream_recv() -> dict[str, Any]:
    net = Network()
    stream = net.events()
    out: dict[str, Any] = {
        "events_type": type(stream).__name__,
        "recv_signature": text_signature(type(stream).recv, method=True),
        "recv_10ms_before_start": err(lambda: stream.recv(10)),
        "recv_timeout_ms_kw": err(lambda: stream.recv(timeout_ms=10)),
    }
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(stream.recv()), daemon=True)
    thread.start()
    thread.join(0.3)  # the probe waited 1.5 s; a blocked recv() is as blocked after 0.3 s
    out["recv_default_blocks_for_1_5s"] = thread.is_alive()
    out["recv_default_returned"] = box[0] if box else None
    assert net.run(timeout=5) == RunState.COMPLETE  # an event (and the stop) releases the reader
    thread.join(5)
    assert not thread.is_alive()
    return out


@functools.cache
def signatures() -> dict[str, Any]:
    golden = GOLDEN["signatures"]
    network = {
        name: (
            text_signature(getattr(Network, name), method=name != "from_graph", length=reference_length(reference))
            if reference is not None
            else None
        )
        for name, reference in golden["Network_members"].items()
    }
    return {
        "Network_members": network,
        "Network_text_signature": text_signature(Network, method=False, length=1),
        "Graph_text_signature": text_signature(Graph, method=False),
        "Message()": err(lambda: Message()),
        "Message_repr_pattern": repr(Message.integer(1)),
        "Message_eq_same_value": Message.integer(1) == Message.integer(1),
        "Message_hashable": err(lambda: isinstance(hash(Message.integer(1)), int)),
        "Message_kind_is_property": isinstance(Message.__dict__.get("kind"), property)
        or type(Message.__dict__.get("kind")).__name__,
        "template_list_signature": text_signature(reflow_cli.template_list, method=False),
        "template_actor_signature": text_signature(reflow_cli.template_actor, method=False),
        "compose_graphs_signature": text_signature(reflow_cli.compose_graphs, method=False),
        "python_Actor_defaults": {
            "component": Actor.component,
            "inports": Actor.inports if isinstance(Actor.inports, list) else {"$py": repr(Actor.inports)},
            "outports": Actor.outports if isinstance(Actor.outports, list) else {"$py": repr(Actor.outports)},
            "await_all_inports": Actor.await_all_inports,
        },
        "Actor_run_not_implemented": err(lambda: Actor().run(None)),  # type: ignore[arg-type]
    }


def from_graph_aborts() -> Any:
    net = Network.from_graph(Graph("empty"))
    return {"from_graph": err(lambda: net), "run": net.run(timeout=5).state.name}


def start_with_unknown_connection_node() -> Any:
    net = Network()
    net.register_actor("tpl_s", Noop())
    net.add_node("a", "tpl_s")
    return {"add_connection": err(lambda: net.add_connection("a", "out", "ghost", "in"))}


def start_with_unknown_iip_node() -> Any:
    net = Network()
    net.register_actor("tpl_s", Noop())
    net.add_node("a", "tpl_s")
    return {"add_initial": err(lambda: net.add_initial("ghost", "in", {"type": "Flow"}))}


_PACKS_PROBE = """
import json
import reflow_cli

def err(fn):
    try:
        value = fn()
    except Exception as exc:
        return {"raised": type(exc).__name__, "text": str(exc)}
    return {"returned": value}

print(json.dumps({
    "pack_abi_version": reflow_cli.pack_abi_version(),
    "list_packs": reflow_cli.list_packs(),
    "inspect_missing": err(lambda: reflow_cli.inspect_pack("/nonexistent/probe.rflpack")),
    "load_missing": err(lambda: reflow_cli.load_pack("/nonexistent/probe.rflpack")),
    "list_packs_after_failed_load": reflow_cli.list_packs(),
}))
"""


@functools.cache
def packs() -> dict[str, Any]:
    """The probe's calls, in a fresh process: other tests load packs into this one."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _PACKS_PROBE], capture_output=True, text=True, timeout=60, check=True)
    out: dict[str, Any] = json.loads(done.stdout)
    for key, value in out.items():
        if isinstance(value, dict) and "raised" in value:
            out[key] = Raised(getattr(reflow_errors, value["raised"])(value["text"]))
    return out


# -- the rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    golden: Callable[[dict[str, Any]], Any]
    ours: Callable[[], Any]


def as_error(value: Any) -> Any:
    """The probe's err() wrote ``{"error": {...}}``; bare describe_exc dicts are wrapped too."""
    if isinstance(value, dict) and set(value) in ({"type", "text"}, {"type", "text", "builtin"}):
        return {"error": value}
    return value


ROWS: dict[str, Row] = {}
SKIPPED: dict[str, str] = {}


def add_rows(
    case: str, ours: Callable[[], dict[str, Any]], skip: dict[str, str] | None = None, only: Any = None
) -> None:
    for key in GOLDEN[case]:
        if only is not None and key not in only:
            continue
        row_id = f"{case}/{key}"
        ROWS[row_id] = Row(lambda g, c=case, k=key: as_error(g[c][k]), lambda k=key: ours()[k])
        if skip and key in skip:
            SKIPPED[row_id] = skip[key]


add_rows("registration", registration)
add_rows("templates_lookup", templates_lookup)
add_rows("packs", packs)
add_rows("network_config", network_config, only=[k for k in GOLDEN["network_config"] if k != "full_config_used"])
add_rows("event_stream_recv", event_stream_recv)
add_rows(
    "signatures",
    signatures,
    skip={"version": "a version number is not an API fact"},
    only=[k for k in GOLDEN["signatures"] if k not in ("module_all", "native_all", "Message_members")],
)
for _listing in ("module_all", "native_all", "Message_members"):
    for _name in GOLDEN["signatures"][_listing]:
        row_id = f"signatures/{_listing}/{_name}"
        owner = Message if _listing == "Message_members" else reflow_cli
        ROWS[row_id] = Row(lambda g: True, lambda o=owner, n=_name: hasattr(o, n))
for _case, _ours in (
    ("from_graph_aborts", from_graph_aborts),
    ("start_with_unknown_connection_node", start_with_unknown_connection_node),
    ("start_with_unknown_iip_node", start_with_unknown_iip_node),
):
    ROWS[_case] = Row(lambda g, c=_case: g[c], _ours)


GHOST = error("ValueError", "names node 'ghost', which does not exist", ours="GraphError")

DEVIATIONS: dict[str, Deviation] = {
    "registration/register_actor_class_not_instance": Deviation(CLASSES_REGISTRABLE, result={"returned": None}),
    "registration/add_node_duplicate_id": Deviation(
        DUPLICATE_NODE, result=error("ValueError", "node 'n1' already exists", ours="GraphError")
    ),
    "registration/add_initial_message_object": Deviation(IIP_MESSAGES, result={"returned": None}),
    "templates_lookup/template_actor_known": Deviation(TEMPLATE_IS_COMPONENT, result={"returned_type": "type"}),
    "registration/add_connection_unknown_nodes": Deviation(NODES_CHECKED, result=GHOST),
    "start_with_unknown_connection_node": Deviation(NODES_CHECKED, result={"add_connection": GHOST}),
    "start_with_unknown_iip_node": Deviation(NODES_CHECKED, result={"add_initial": GHOST}),
    "network_config/Network({})": Deviation(CONFIG_IGNORED, result={"returned_type": "Network"}),
    "network_config/Network({'compression': {'enabled': False}})": Deviation(
        CONFIG_IGNORED, result={"returned_type": "Network"}
    ),
    "event_stream_recv/recv_signature": Deviation(RECV_DEFAULT, result="($self, timeout_ms=None)"),
    "from_graph_aborts": Deviation(
        FROM_GRAPH_WORKS, result={"from_graph": {"returned_type": "Network"}, "run": "COMPLETE"}
    ),
    "signatures/Message_repr_pattern": Deviation(MESSAGE_VALUES, result="{'data': 1, 'type': 'Integer'}"),
    "signatures/Message_eq_same_value": Deviation(MESSAGE_VALUES, result=True),
    "signatures/Message_kind_is_property": Deviation(KIND_PROPERTY, result=True),
    "signatures/python_Actor_defaults": Deviation(
        TUPLE_PORTS,
        result={
            "component": "anonymous",
            "inports": {"$py": "()"},
            "outports": {"$py": "()"},
            "await_all_inports": False,
        },
    ),
}

PACK_ABI = (
    "pack_abi_version() is a small int that changes only with the registration API or the manifest's meaning "
    "(1); the reference's is a u32 hash of its toolchain (2442128673). Its Rust packs are refused by name "
    "(tests/packs/test_safety.py)"
)
INSPECT_MISSING = (
    "inspect_pack of a missing file says so (PackNotFoundError, a RuntimeError); the reference says "
    "'inspect_pack requires a .rflpack bundle — raw dylibs have no manifest'"
)
DEVIATIONS.update({
    "packs/pack_abi_version": Deviation(PACK_ABI, result=1),
    "packs/inspect_missing": Deviation(INSPECT_MISSING, result=error(
        "RuntimeError", "inspect pack '/nonexistent/probe.rflpack': /nonexistent/probe.rflpack: No such file or directory",
        ours="PackNotFoundError")),
})

#: Differences that are bugs (xfail(strict=True) until fixed).
KNOWN_BUGS: dict[str, str] = {}


def expected_result(row_id: str, golden: Any) -> Any:
    deviation = DEVIATIONS.get(row_id)
    return golden if deviation is None else deviation.result


def marks(row_id: str) -> list[Any]:
    if row_id in SKIPPED:
        return [pytest.mark.skip(reason=SKIPPED[row_id])]
    if row_id in KNOWN_BUGS:
        return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[row_id])]
    return []


@pytest.mark.parametrize("row_id", [pytest.param(r, id=r, marks=marks(r)) for r in ROWS])
def test_replay(row_id: str) -> None:
    spec = ROWS[row_id]
    compare(expected_result(row_id, spec.golden(GOLDEN)), spec.ours(), row_id)


def test_every_golden_fact_has_a_row() -> None:
    cases = {row_id.split("/")[0] for row_id in ROWS}
    assert cases == set(GOLDEN)
    for case, value in GOLDEN.items():
        if isinstance(value, dict) and "outcome" not in value:
            for key in value:
                if key == "full_config_used":  # an input of the probe, not a fact
                    continue
                assert any(r == f"{case}/{key}" or r.startswith(f"{case}/{key}/") for r in ROWS), (case, key)


def test_deviation_tables_name_rows() -> None:
    for table in (DEVIATIONS, KNOWN_BUGS, SKIPPED):
        assert not (set(table) - set(ROWS)), "stale entries"
    assert not (set(DEVIATIONS) & set(KNOWN_BUGS))
    assert not (set(SKIPPED) & (set(DEVIATIONS) | set(KNOWN_BUGS)))
    for row_id in DEVIATIONS:
        golden = as_error(ROWS[row_id].golden(GOLDEN))
        assert expected_result(row_id, golden) != golden, row_id


def test_skips_name_their_issue() -> None:
    for row_id, reason in SKIPPED.items():
        assert re.search(r"issue \d+", reason) or "version" in row_id, row_id


# -- what the rows do not pin down --------------------------------------------------------------------


def test_register_twice_names_the_id_without_the_typo() -> None:
    """RegistryError is a RuntimeError (as the reference's); the text is ours, without 'extists'."""
    net = Network()
    net.register_actor("tpl_s", Noop())
    with pytest.raises(reflow_errors.RegistryError) as info:
        net.register_actor("tpl_s", Noop())
    assert isinstance(info.value, RuntimeError)
    assert "'tpl_s'" in str(info.value) and "already" in str(info.value) and "extists" not in str(info.value)


def test_unknown_lookups() -> None:
    with pytest.raises(RuntimeError, match="tpl_unknown"):
        Network().add_node("n", "tpl_unknown")
    with pytest.raises(ValueError, match="'nope'"):
        template_actor("nope")


def test_network_config_is_accepted_and_ignored() -> None:
    """CONFIG_IGNORED: any NetworkConfig dict (or None, or {}) gives a network that runs the same."""
    for config in (None, {}, FULL_CONFIG):
        net = Network(config)
        net.register_actor("tpl_s", Noop())
        net.add_node("a", "tpl_s")
        net.add_initial("a", "in", Message.flow())
        assert net.run(timeout=5) == RunState.COMPLETE


def test_registered_actor_classes_get_one_instance_per_node() -> None:
    """CLASSES_REGISTRABLE: a class is instantiated per node; an instance is shared (as in the reference)."""
    seen: list[int] = []

    class Mark(Actor):
        inports = ["in"]
        outports: list[str] = []

        def run(self, ctx: Any) -> None:
            seen.append(id(self))

    net = Network()
    net.register_actor("cls", Mark)
    for node in ("a", "b"):
        net.add_node(node, "cls")
        net.add_initial(node, "in", Message.flow())
    assert net.run(timeout=5) == RunState.COMPLETE
    assert len(set(seen)) == 2
