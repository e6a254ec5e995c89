"""The tick context (``ctx``) against ``golden/context.json``, recorded from offbit-reflow 0.2.9.

Every scenario of ``probes/context.py`` is rebuilt with ``reflow_cli``: the same
actors (a ``probe`` node running the scenario, wired port by port to a ``sink``
node), the same IIPs and the same wiring, run to completion with
``net.run(timeout=...)`` instead of the probe's sleeps. What the sink received
(grouped by port: order within a port is deterministic, across ports it is not)
and what ``run()`` observed are compared with the golden observation. Some
golden cases are split into several rows (``case/aspect``), so that a bug in
one aspect does not hide the others.

* ``DEVIATIONS``: where we *deliberately* differ. Each entry gives the reason
  and **our** expected result, which is asserted (never skipped).
* ``KNOWN_BUGS``: where we differ and should not; ``xfail(strict=True)`` until
  the engine/actor code is fixed (a fix makes the row XPASS, which fails the
  run and asks for the entry to be removed).

Our observations use the golden file's value encoding (``README.md``), with
two conventions of ours: an input message is observed as ``dict(message)``
(our ``ctx.inputs[port]`` is a read-only ``Message`` mapping, not a dict), and
``actor_failed`` lists the ``ActorFailed`` events of the run (the reference
has none), each as its error text or, for a raised exception, its class name.
Errors compare as in ``test_messages_compat.py``: same builtin class, same key
facts (backticked tokens, quoted names); where the expected error names one of
our classes, ours must be an instance of it too.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import Actor, Message, Network, RunState, TickContext
from reflow_cli import errors as reflow_errors

GOLDEN_FILE = Path(__file__).resolve().parent / "golden" / "context.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]

# -- why we differ ------------------------------------------------------------------

INPUTS_ARE_MESSAGES = (
    "ctx.inputs values are Message objects, read-only mappings with ['type'] and ['data'] (and "
    ".take_stream()); the reference gives plain dicts. dict(message) is the reference's dict"
)
BYTES_IN_MEMORY = "Bytes (and Encoded) data is bytes in memory; the int-list form exists only in JSON"
NAN_CROSSES = (
    "a NaN Float crosses a connection like any value; the reference aborts the process "
    "(its JSON form has data null and cannot be read back)"
)
ENCODED_OPAQUE = "Encoded is opaque bytes and never decoded; the reference aborts on bytes that are not bitcode"
PORTS_VALIDATED = (
    "ports are validated: an IIP, connection or output on an undeclared port raises PortError "
    "(a ValueError); the reference accepts anything and the packet goes wherever a name matches"
)
FAILURES_REPORTED = (
    "a failed tick (ctx.fail, a raising run, an output on an undeclared port) is an ActorFailed "
    "event; the reference's failures are invisible"
)
IMPLICIT_DONE = (
    "returning from run() without done()/fail() is an implicit done(): emitted packets are "
    "delivered; the reference drops them"
)
RESOLVED_IS_FINAL = (
    "after done()/fail() the context is resolved: send and emit raise ContextError (a "
    "RuntimeError) like a second done; the reference delivers the send silently and drops the emit"
)
NONE_IS_NOTHING = (
    "a None output value means 'nothing on that port' (ARCHITECTURE.md), in done, send and emit; "
    "the reference raises 'invalid type: null'"
)
FAIL_ANY_VALUE = (
    "ctx.fail accepts any value (an exception object included) and reports its text; the "
    "reference accepts only str"
)
AWAIT_ALL_FIFO = (
    "await_all_inports queues every packet (FIFO per port, one from each per tick); the reference "
    "keeps one slot per port and overwrites (ARCHITECTURE.md)"
)
AWAIT_ALL_CONNECTED = (
    "await_all_inports waits for the *connected* inports (a connection or an IIP); a declared "
    "port nothing feeds does not block the ticks (ARCHITECTURE.md). The reference waits for "
    "every declared inport and never fires"
)
POOL_MESSAGES = (
    "pool values may be Messages (kept as they are) and non-finite floats stay floats; the "
    "reference refuses Messages and stores NaN as null"
)
CTX_CLASS = (
    "the context class is TickContext (ActorCallContext is an alias of it) and offers more: "
    "node_id, state, send_async, connected(port), stopping"
)


@dataclass(frozen=True)
class Deviation:
    """A deliberate difference: our result is ``result``, or ``change(golden)``."""

    reason: str
    result: Any = None
    change: Callable[[Any], Any] | None = None


# -- value codec (the golden file's encoding) ---------------------------------------------


def py(text: str) -> dict[str, str]:
    return {"$py": text}


NAN = py("float('nan')")


def encode(value: Any) -> Any:
    """Our value in the golden encoding (see README.md)."""
    if value is None or type(value) in (bool, str, int):
        return value
    if type(value) is float:
        if math.isnan(value):
            return NAN
        if math.isinf(value):
            return py("float('inf')" if value > 0 else "float('-inf')")
        return value
    if isinstance(value, Message):
        return {"$message": encode(value.as_json())}
    if type(value) is list:
        return [encode(v) for v in value]
    if type(value) is dict and all(type(k) is str for k in value):
        return {k: encode(v) for k, v in value.items()}
    return py(repr(value))


def as_dict(message: Any) -> Any:
    """An input message as the reference's dict (``dict(message)``), encoded."""
    return encode(dict(message))


class Raised:
    """An exception raised while observing (compared by builtin class and key facts)."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"<raised {type(self.exc).__name__}: {self.exc}>"


def err(fn: Callable[[], Any]) -> Any:
    """``{"returned": value}`` or the exception (as the probe's ``err``)."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001
        return Raised(exc)
    return {"returned": encode(value)}


def error(builtin: str, text: str = "", ours: str | None = None) -> dict[str, Any]:
    """An expected error: builtin class, a text whose key facts ours must mention, our class."""
    info = {"type": ours or builtin, "text": text}
    if ours:
        info["builtin"] = builtin
    return {"error": info}


def key_facts(text: str) -> list[str]:
    """Backticked tokens and quoted Python names in an error text."""
    head = re.sub(r"expected one of .*$", "", text)
    facts = re.findall(r"`([^`]*)`", head)
    facts += [name for name in re.findall(r"'([A-Za-z_][A-Za-z_0-9]*)'", head) if not name.startswith("Py")]
    return facts


def check_error(expected: dict[str, Any], got: Any, where: str) -> None:
    builtin_name = expected.get("builtin", expected["type"])
    assert isinstance(got, Raised), f"{where}: expected {builtin_name} ({expected['text']!r}), got {got!r}"
    assert isinstance(got.exc, getattr(builtins, builtin_name)), f"{where}: {got!r} is not a {builtin_name}"
    ours = getattr(reflow_errors, expected["type"], None)
    if isinstance(ours, type):
        assert isinstance(got.exc, ours), f"{where}: {got!r} is not a {expected['type']}"
    missing = [fact for fact in key_facts(expected["text"]) if fact not in str(got.exc)]
    assert not missing, f"{where}: {got!r} does not mention {missing} (reference: {expected['text']!r})"


def compare(expected: Any, got: Any, where: str) -> None:
    if isinstance(expected, dict) and set(expected) == {"error"}:
        check_error(expected["error"], got, where)
        return
    assert not isinstance(got, Raised), f"{where}: expected {expected!r}, got {got!r}"
    if isinstance(expected, dict) and isinstance(got, dict) and "$py" not in expected:
        assert sorted(expected) == sorted(got), f"{where}: keys {sorted(got)} != {sorted(expected)}"
        for key in expected:
            compare(expected[key], got[key], f"{where}.{key}")
        return
    if isinstance(expected, list) and isinstance(got, list):
        assert len(expected) == len(got), f"{where}: {got!r} != {expected!r}"
        for index, (e, g) in enumerate(zip(expected, got)):
            compare(e, g, f"{where}[{index}]")
        return
    assert type(expected) is type(got) and expected == got, f"{where}: {got!r} != {expected!r}"


# -- running scenarios ---------------------------------------------------------------------

PORTS = ("out", "a", "b")  # the probe's outports, each wired to the sink's inport of that name
TIMEOUT = 10.0


def make_actor(
    run: Callable[[Any], Any],
    inports: tuple[str, ...] = ("in",),
    outports: tuple[str, ...] = ("out",),
    await_all: bool = False,
    component: str = "probe",
) -> Actor:
    """An Actor instance whose run(ctx) is ``run`` (as the probe's make_actor)."""
    klass = type(
        "ProbeActor",
        (Actor,),
        {
            "component": component,
            "inports": list(inports),
            "outports": list(outports),
            "await_all_inports": await_all,
            "run": lambda self, ctx: run(ctx),
        },
    )
    return klass()


def sink_actor(received: list[tuple[str, Any]], inports: tuple[str, ...] = PORTS) -> Actor:
    def run(ctx: Any) -> None:
        for port, message in ctx.inputs.items():
            received.append((port, as_dict(message)))
        ctx.done()

    return make_actor(run, inports=inports, outports=(), component="sink")


def by_port(items: list[tuple[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for port, value in items:
        out.setdefault(port, []).append(value)
    return out


def failure_label(text: str) -> str:
    """An ActorFailed error as observed: the class name of a raised exception, else the text."""
    match = re.match(r"([A-Z][A-Za-z]*Error): ", text)
    return match.group(1) if match else text


@dataclass
class Run:
    status: Any
    actor_failed: list[str]


def run_network(
    actors: dict[str, Actor],
    nodes: list[tuple[Any, ...]],
    connections: list[tuple[str, str, str, str]] = (),  # type: ignore[assignment]
    iips: list[tuple[str, str, Any]] = (),  # type: ignore[assignment]
    before_run: Callable[[Network], None] | None = None,
) -> Run:
    net = Network()
    for template, actor in actors.items():
        net.register_actor(template, actor)
    for node in nodes:
        net.add_node(*node)
    for connection in connections:
        net.add_connection(*connection)
    for node, port, message in iips:
        net.add_initial(node, port, message)
    if before_run is not None:
        before_run(net)
    events = net.events()
    status = net.run(timeout=TIMEOUT)
    failed = [failure_label(e["error"]) for e in events if e["_type"] == "ActorFailed"]
    return Run(status, failed)


def scenario(
    run: Callable[[Any, list[Any]], None],
    iips: list[tuple[str, str, Any]],
    await_all: bool = False,
    inports: tuple[str, ...] = ("in",),
    before_run: Callable[[Network], None] | None = None,
    expect: RunState = RunState.COMPLETE,
) -> dict[str, Any]:
    """The probe's scenario(): probe -> sink on ports out, a, b; what each observed."""
    received: list[tuple[str, Any]] = []
    observations: list[Any] = []
    probe = make_actor(lambda ctx: run(ctx, observations), inports=inports, outports=PORTS, await_all=await_all)
    result = run_network(
        {"tpl_probe": probe, "tpl_sink": sink_actor(received)},
        [("probe", "tpl_probe"), ("sink", "tpl_sink")],
        [("probe", port, "sink", port) for port in PORTS],
        iips,
        before_run,
    )
    assert result.status == expect, result.status
    out = {"received": by_port(received), "observations": observations}
    if result.actor_failed:
        out["actor_failed"] = result.actor_failed
    return out


def tagged(tag: str, data: Any = None, no_data: bool = False) -> dict[str, Any]:
    return {"type": tag} if no_data else {"type": tag, "data": data}


def ticks(*bodies: Callable[[Any, list[Any]], None]) -> tuple[Callable[[Any, list[Any]], None], list[Any]]:
    """A run() dispatching on the IIP's Integer data: tick i runs bodies[i]."""

    def run(ctx: Any, obs: list[Any]) -> None:
        bodies[ctx.inputs["in"]["data"]](ctx, obs)

    return run, [("probe", "in", tagged("Integer", i)) for i in range(len(bodies))]


def sc(*bodies: Callable[[Any, list[Any]], None], **kw: Any) -> dict[str, Any]:
    run, iips = ticks(*bodies)
    return scenario(run, iips, **kw)


def after(port: str = "out", value: str = "after") -> Callable[[Any, list[Any]], None]:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.done({port: Message.string(value)})

    return body


# -- the rows ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    golden: Callable[[dict[str, Any]], Any]  # the golden observation, from GOLDEN
    ours: Callable[[], Any]  # our observation


ROWS: dict[str, Row] = {}


def whole(case: str) -> Callable[[dict[str, Any]], Any]:
    """The golden case without the probe's wait flag (our runs complete)."""
    return lambda g: {k: v for k, v in g[case].items() if k != "all_expected_arrived"}


def row(row_id: str, golden: Callable[[dict[str, Any]], Any] | None = None) -> Callable[[Callable[[], Any]], Any]:
    def register(fn: Callable[[], Any]) -> Callable[[], Any]:
        ROWS[row_id] = Row(golden or whole(row_id), fn)
        return fn

    return register


# inputs --------------------------------------------------------------------------------

KIND_IIPS = [
    tagged("Integer", 21),
    tagged("Flow", no_data=True),
    tagged("Bytes", [1, 2]),
    tagged("Object", {"a": 1}),
    tagged("String", "s"),
    tagged("Float", 1.5),
    tagged("Boolean", True),
    tagged("Array", [1, "x"]),
    tagged("Error", "boom"),
    tagged("Optional", None),
    tagged("Any", 5),
    tagged("Event", {"e": 1}),
    tagged("RemoteReference", {"network_id": "n", "actor_id": "a", "port": "p"}),
    tagged("NetworkEvent", {"event_type": "NetworkConnected", "data": None}),
]


def record_inputs(ctx: Any, obs: list[Any]) -> None:
    obs.append(
        {
            "inputs_type": type(ctx.inputs).__name__,
            "value_types": sorted({type(v).__name__ for v in ctx.inputs.values()}),
            "inputs": {port: as_dict(message) for port, message in ctx.inputs.items()},
        }
    )
    ctx.done()


@row("inputs_per_kind_via_iip")
def inputs_per_kind_via_iip() -> Any:
    return scenario(record_inputs, [("probe", "in", m) for m in KIND_IIPS])


CONNECTION_KINDS: list[tuple[str, Callable[[], Any]]] = [
    ("Integer", lambda: Message.integer(21)),
    ("Flow", lambda: Message.flow()),
    ("Bytes", lambda: Message.bytes(b"\x01\x02")),
    ("Object", lambda: Message.object({"a": 1})),
    ("String", lambda: Message.string("s")),
    ("Float", lambda: Message.float(1.5)),
    ("Boolean", lambda: Message.boolean(True)),
    ("Array", lambda: Message.array([1, "x"])),
    ("Error", lambda: Message.error("boom")),
    ("Optional", lambda: Message.from_json(tagged("Optional", None))),
    ("Any", lambda: Message.from_json(tagged("Any", 5))),
    ("Event", lambda: Message.from_json(tagged("Event", {"e": 1}))),
    ("tagged dict Integer", lambda: tagged("Integer", 7)),
]


def connection_scenario(kinds: list[tuple[str, Callable[[], Any]]]) -> Any:
    """A 'src' node sends each message over a connection to the probe (which records ctx.inputs)."""
    obs: list[Any] = []

    def src(ctx: Any) -> None:
        for _name, make in kinds:
            ctx.send({"out": make()})
        ctx.done()

    result = run_network(
        {
            "tpl_src": make_actor(src, component="src"),
            "tpl_probe": make_actor(lambda ctx: record_inputs(ctx, obs), outports=()),
        },
        [("src", "tpl_src"), ("probe", "tpl_probe")],
        [("src", "out", "probe", "in")],
        [("src", "in", tagged("Flow", no_data=True))],
    )
    assert result.status == RunState.COMPLETE and not result.actor_failed
    return {"sent": [name for name, _m in kinds], "observations": obs}


@row("inputs_per_kind_via_connection")
def inputs_per_kind_via_connection() -> Any:
    return connection_scenario(CONNECTION_KINDS)


@row("float_nan_via_connection")
def float_nan_via_connection() -> Any:
    return connection_scenario(
        [("Float nan", lambda: Message.float(math.nan)), ("Integer", lambda: Message.integer(1))]
    )


@row("encoded_iip")
def encoded_iip() -> Any:
    return scenario(record_inputs, [("probe", "in", tagged("Encoded", [1, 2, 3]))])


@row("streamhandle_iip_unknown_stream")
def streamhandle_iip_unknown_stream() -> Any:
    handle = {"stream_id": 999999, "origin_actor": "x", "origin_port": "y", "content_type": None, "size_hint": None}
    return scenario(record_inputs, [("probe", "in", tagged("StreamHandle", handle))])


@row("iip_on_undeclared_port")
def iip_on_undeclared_port() -> Any:
    refused: list[Any] = []

    def iips(net: Network) -> None:
        refused.append(err(lambda: net.add_initial("probe", "undeclared", tagged("Integer", 1))))

    result = scenario(record_inputs, [], before_run=iips)
    return {"add_initial": refused[0], **result}


# config ----------------------------------------------------------------------------------

CONFIG_NODES: list[tuple[Any, ...]] = [
    ("n1_none", "tpl_probe", None),
    ("n2_dict", "tpl_probe", {"a": 1, "nested": {"b": [1, 2]}, "s": "x"}),
    ("n3_omitted", "tpl_probe"),
    ("n4_empty", "tpl_probe", {}),
]


@functools.cache
def config_run() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """ctx.config per add_node config (the IIP Integer i identifies the node), as the probe."""
    obs: list[dict[str, Any]] = []

    def run(ctx: Any) -> None:
        entry: dict[str, Any] = {
            "node_marker": ctx.inputs["in"]["data"],
            "config": encode(ctx.config),
            "config_type": type(ctx.config).__name__,
        }
        try:
            ctx.config["mutated"] = True
            entry["mutate_item"] = "ok"
        except Exception as exc:  # noqa: BLE001
            entry["mutate_item"] = Raised(exc)
        entry["config_after_item_mutation"] = encode(ctx.config)
        try:
            ctx.config = {"replaced": 1}
            entry["assign_attribute"] = "ok"
        except Exception as exc:  # noqa: BLE001
            entry["assign_attribute"] = Raised(exc)
        obs.append(entry)
        ctx.done()

    iips = [(node[0], "in", tagged("Integer", i + 1)) for i, node in enumerate(CONFIG_NODES)]
    iips.append(("n2_dict", "in", tagged("Integer", 22)))  # does an in-run mutation persist?
    result = run_network({"tpl_probe": make_actor(run, outports=())}, CONFIG_NODES, (), iips)
    assert result.status == RunState.COMPLETE and not result.actor_failed
    errors = {}
    for label, bad in (("list", [1]), ("string", "x"), ("int", 5), ("tuple", ("a", 1))):
        net = Network()
        net.register_actor("tpl_probe", make_actor(run, outports=()))
        errors[label] = err(lambda: net.add_node("n", "tpl_probe", bad))
        if not isinstance(errors[label], Raised):
            errors[label] = "accepted"
    return sorted(obs, key=lambda e: e["node_marker"]), errors


def as_error(value: Any) -> Any:
    """The probe stored some errors as bare ``{"type", "text"}``: wrap them as ``{"error": ...}``."""
    if isinstance(value, dict) and {"type", "text"} <= set(value) <= {"type", "text", "builtin"}:
        return {"error": value}
    return value


def config_rows(field: str, markers: tuple[int, ...]) -> Row:
    def golden(g: dict[str, Any]) -> Any:
        return [
            {"node_marker": o["node_marker"], field: as_error(o[field])}
            for o in g["config"]["observations"]
            if o["node_marker"] in markers
        ]

    def ours() -> Any:
        return [
            {"node_marker": o["node_marker"], field: o[field]} for o in config_run()[0] if o["node_marker"] in markers
        ]

    return Row(golden, ours)


FIRST_TICKS = (1, 2, 3, 4)
ROWS["config/config"] = config_rows("config", FIRST_TICKS)
ROWS["config/config_type"] = config_rows("config_type", FIRST_TICKS + (22,))
ROWS["config/mutate_item"] = config_rows("mutate_item", FIRST_TICKS + (22,))
ROWS["config/config_after_item_mutation"] = config_rows("config_after_item_mutation", FIRST_TICKS + (22,))
ROWS["config/config_on_a_later_tick"] = config_rows("config", (22,))
ROWS["config/assign_attribute"] = config_rows("assign_attribute", FIRST_TICKS + (22,))
ROWS["config/add_node_config_errors"] = Row(
    lambda g: {k: as_error(v) for k, v in g["config"]["add_node_config_errors"].items()}, lambda: config_run()[1]
)


# emit / send / done / fail ----------------------------------------------------------------


@row("emit_collapse")
def emit_collapse() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        for i in (1, 2, 3):
            ctx.emit("out", Message.integer(i))
        ctx.done()

    return sc(body, after())


@row("done_overrides_emit")
def done_overrides_emit() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.emit("out", Message.integer(1))
        ctx.done({"out": Message.integer(2)})

    return sc(body, after())


@row("emit_separate_ports")
def emit_separate_ports() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.emit("a", Message.integer(1))
        ctx.emit("b", Message.integer(2))
        ctx.done({"out": Message.integer(3)})

    return sc(body)


@row("emit_undeclared_port")
def emit_undeclared_port() -> Any:
    """emit('zzz', 1) (not in outports; the reference wires probe.zzz -> sink.zzz); done()."""

    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.emit("zzz", Message.integer(1))
        ctx.done()

    refused: list[Any] = []
    result = sc(
        body,
        after(),
        before_run=lambda net: refused.append(err(lambda: net.add_connection("probe", "zzz", "sink", "zzz"))),
    )
    return {"add_connection": refused[0], **result}


@row("emit_unconnected_port")
def emit_unconnected_port() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        obs.append({"emit": err(lambda: ctx.emit("nowhere", Message.integer(1)))})
        ctx.done({"out": Message.integer(2)})

    return sc(body)


@row("tagged_dicts_accepted")
def tagged_dicts_accepted() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.send({"a": {"type": "Integer", "data": 1}})
        ctx.emit("b", {"type": "String", "data": "e"})
        ctx.done({"out": {"type": "Flow"}})

    return sc(body)


@row("send_order_then_done")
def send_order_then_done() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.send({"out": Message.integer(1)})
        ctx.send({"out": Message.integer(2)})
        ctx.emit("out", Message.integer(3))
        ctx.done({"out": Message.integer(4)})

    return sc(body)


@row("send_several_ports_one_call")
def send_several_ports_one_call() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.send({"a": Message.integer(1), "b": Message.integer(2)})
        ctx.done()

    return sc(body)


@row("send_survives_fail")
def send_survives_fail() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.send({"out": Message.integer(1)})
        ctx.fail("x")

    return sc(body, after())


@row("fail_discards_emits")
def fail_discards_emits() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.emit("out", Message.integer(1))
        ctx.fail("x")

    return sc(body, after())


@row("raise_then_next_packet")
def raise_then_next_packet() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.emit("out", Message.integer(1))
        raise ValueError("bad")

    return sc(body, after())


@row("return_without_done")
def return_without_done() -> Any:
    def body(ctx: Any, obs: list[Any]) -> None:
        ctx.emit("out", Message.integer(1))
        ctx.emit("a", Message.integer(1))

    return sc(body, after("b"))


def then_done(value: int) -> Callable[[Any], Any]:
    return lambda ctx: ctx.done({"out": Message.integer(value)})


MISUSES: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
    ("done twice", lambda c: c.done(), lambda c: c.done()),
    ("fail after done", lambda c: c.done(), lambda c: c.fail("x")),
    ("done after fail", lambda c: c.fail("x"), lambda c: c.done()),
    ("fail twice", lambda c: c.fail("x"), lambda c: c.fail("y")),
    ("emit after done (out 100)", lambda c: c.done(), lambda c: c.emit("out", Message.integer(100))),
    ("send after done (out 101)", lambda c: c.done(), lambda c: c.send({"out": Message.integer(101)})),
    ("send after fail (out 102)", lambda c: c.fail("x"), lambda c: c.send({"out": Message.integer(102)})),
    ("pool after done", lambda c: c.done(), lambda c: c.pool_upsert("p", "k", 1)),
    ("done(5) then done(out 3)", lambda c: c.done(5), then_done(3)),
    ("done([1]) then done(out 4)", lambda c: c.done([1]), then_done(4)),
    ("done('x') then done(out 5)", lambda c: c.done("x"), then_done(5)),
    ("done({out: 5}) raw value then done(out 6)", lambda c: c.done({"out": 5}), then_done(6)),
    ("done({out: None}) then done(out 7)", lambda c: c.done({"out": None}), then_done(7)),
    ("done({out: 'text'}) then done(out 8)", lambda c: c.done({"out": "text"}), then_done(8)),
    ("done({out: {'type': 'Nope'}}) then done(out 9)", lambda c: c.done({"out": {"type": "Nope"}}), then_done(9)),
    ("done({5: Message}) then done(out 10)", lambda c: c.done({5: Message.integer(0)}), then_done(10)),
    ("done(None) then done(out 11)", lambda c: c.done(None), then_done(11)),
    ("send(5) then done(out 12)", lambda c: c.send(5), then_done(12)),
    ("send([..]) then done(out 13)", lambda c: c.send([("out", Message.integer(0))]), then_done(13)),
    ("send({out: 5}) then done(out 14)", lambda c: c.send({"out": 5}), then_done(14)),
    ("send({out: None}) then done(out 15)", lambda c: c.send({"out": None}), then_done(15)),
    ("send({}) then done(out 16)", lambda c: c.send({}), then_done(16)),
    ("emit(out, 5) then done(out 17)", lambda c: c.emit("out", 5), then_done(17)),
    ("emit(out, None) then done(out 18)", lambda c: c.emit("out", None), then_done(18)),
    ("emit(5, Message) then done(out 19)", lambda c: c.emit(5, Message.integer(0)), then_done(19)),
    ("fail(5) then done(out 20)", lambda c: c.fail(5), then_done(20)),
    ("fail() then done(out 21)", lambda c: c.fail(), then_done(21)),  # type: ignore[call-arg]
]


@functools.cache
def misuse_run() -> dict[str, Any]:
    def misuse(
        name: str, first: Callable[[Any], Any], second: Callable[[Any], Any]
    ) -> Callable[[Any, list[Any]], None]:
        def body(ctx: Any, obs: list[Any]) -> None:
            obs.append({"tick": name, "first": err(lambda: first(ctx)), "second": err(lambda: second(ctx))})

        return body

    return sc(*(misuse(name, first, second) for name, first, second in MISUSES))


for _name, _first, _second in MISUSES:
    ROWS[f"context_misuse/{_name}"] = Row(
        lambda g, name=_name: next(o for o in g["context_misuse"]["observations"] if o["tick"] == name),
        lambda name=_name: next(o for o in misuse_run()["observations"] if o["tick"] == name),
    )
ROWS["context_misuse/received"] = Row(
    lambda g: {"received": g["context_misuse"]["received"]},
    lambda: {k: v for k, v in misuse_run().items() if k != "observations"},
)


def text_signature(member: Any) -> str | None:
    """A method's signature in pyo3's ``__text_signature__`` style (``($self, a, b=None)``)."""
    if not callable(member) or isinstance(member, property):
        return None
    parts = ["$self"]
    for name, parameter in list(inspect.signature(member).parameters.items())[1:]:
        parts.append(name if parameter.default is inspect.Parameter.empty else f"{name}={parameter.default!r}")
    return f"({', '.join(parts)})"


@functools.cache
def members_run() -> dict[str, Any]:
    def body(ctx: Any, obs: list[Any]) -> None:
        members = sorted(name for name in dir(ctx) if not name.startswith("_"))
        obs.append({"type": type(ctx).__name__, "members": members})
        ctx.done()

    return sc(body)["observations"][0]


ROWS["ctx_members/type"] = Row(lambda g: g["ctx_members"]["observations"][0]["type"], lambda: members_run()["type"])
ROWS["ctx_members/members"] = Row(
    lambda g: g["ctx_members"]["observations"][0]["members"], lambda: members_run()["members"]
)
ROWS["ctx_members/text_signatures"] = Row(
    lambda g: g["ctx_members"]["observations"][0]["text_signatures"],
    lambda: {
        name: text_signature(getattr(TickContext, name, None))
        for name in GOLDEN["ctx_members"]["observations"][0]["text_signatures"]
    },
)


# pools ------------------------------------------------------------------------------------


def pool_ops(ctx: Any, obs: list[Any]) -> None:
    step = ctx.inputs["in"]["data"]
    node, op = step["node"], step["op"]
    out: dict[str, Any] = {"node": node, "op": op}
    if op == "fill":
        out["upserts"] = [
            err(lambda: ctx.pool_upsert("p", "b", 1)),
            err(lambda: ctx.pool_upsert("p", "a", {"x": [1]})),
            err(lambda: ctx.pool_upsert("p", "c", "s")),
            err(lambda: ctx.pool_upsert("p", "B", None)),
            err(lambda: ctx.pool_upsert("p", "10", 1.5)),
            err(lambda: ctx.pool_upsert("p", "9", [1, 2])),
        ]
    elif op == "read":
        pool = ctx.pool("p")
        out["pool"] = encode(pool)
        out["pool_type"] = type(pool).__name__
        out["key_order"] = list(pool)
        out["count"] = err(lambda: ctx.pool_count("p"))
        out["absent_pool"] = err(lambda: ctx.pool("absent"))
        out["absent_count"] = err(lambda: ctx.pool_count("absent"))
    elif op == "overwrite_remove_clear":
        out["overwrite"] = err(lambda: ctx.pool_upsert("p", "a", 2))
        out["after_overwrite"] = encode(ctx.pool("p"))
        out["remove_a"] = err(lambda: ctx.pool_remove("p", "a"))
        out["remove_a_again"] = err(lambda: ctx.pool_remove("p", "a"))
        out["remove_in_absent_pool"] = err(lambda: ctx.pool_remove("absent", "x"))
        out["after_remove"] = encode(ctx.pool("p"))
        out["clear"] = err(lambda: ctx.pool_clear("p"))
        out["clear_again"] = err(lambda: ctx.pool_clear("p"))
        out["clear_absent"] = err(lambda: ctx.pool_clear("absent"))
        out["after_clear"] = encode(ctx.pool("p"))
        out["count_after_clear"] = err(lambda: ctx.pool_count("p"))
    elif op == "bad_values":
        out["upsert_message"] = err(lambda: ctx.pool_upsert("q", "m", Message.integer(1)))
        out["upsert_bytes"] = err(lambda: ctx.pool_upsert("q", "b", b"x"))
        out["upsert_nan"] = err(lambda: ctx.pool_upsert("q", "n", math.nan))
        out["upsert_int_id"] = err(lambda: ctx.pool_upsert("q", 5, 1))
        out["upsert_int_name"] = err(lambda: ctx.pool_upsert(5, "k", 1))
        out["remove_int_id"] = err(lambda: ctx.pool_remove("q", 5))
        out["pool_q"] = err(lambda: ctx.pool("q"))
        pool = ctx.pool("q")
        pool["injected"] = 1
        out["returned_dict_is_copy"] = "injected" not in ctx.pool("q")
    obs.append(out)
    ctx.done()


POOL_STEPS = [("n1", "fill"), ("n1", "read"), ("n1", "overwrite_remove_clear"), ("n1", "bad_values")]


@functools.cache
def pools_run() -> list[dict[str, Any]]:
    """Two nodes n1, n2 of one template; n1's read tick forwards {op: read} to n2 (as the probe)."""
    obs: list[Any] = []

    def run(ctx: Any) -> None:
        step = ctx.inputs["in"]["data"]
        if step["node"] == "n1" and step["op"] == "read":
            ctx.send({"out": Message.object({"node": "n2", "op": "read"})})
        pool_ops(ctx, obs)

    result = run_network(
        {"tpl_pool": make_actor(run, outports=("out",))},
        [("n1", "tpl_pool"), ("n2", "tpl_pool")],
        [("n1", "out", "n2", "in")],
        [(node, "in", tagged("Object", {"node": node, "op": op})) for node, op in POOL_STEPS],
    )
    assert result.status == RunState.COMPLETE and not result.actor_failed
    return obs


def pool_step(observations: list[dict[str, Any]], node: str, op: str) -> dict[str, Any]:
    return next(o for o in observations if (o["node"], o["op"]) == (node, op))


BAD_VALUE_KEYS = (
    "upsert_message",
    "upsert_bytes",
    "upsert_nan",
    "upsert_int_id",
    "upsert_int_name",
    "remove_int_id",
    "pool_q",
    "returned_dict_is_copy",
)
for _node, _op in [*POOL_STEPS[:3], ("n2", "read")]:
    ROWS[f"pools/{_node}:{_op}"] = Row(
        lambda g, n=_node, o=_op: pool_step(g["pools"]["observations"], n, o),
        lambda n=_node, o=_op: pool_step(pools_run(), n, o),
    )
for _key in BAD_VALUE_KEYS:
    ROWS[f"pools/n1:bad_values/{_key}"] = Row(
        lambda g, k=_key: pool_step(g["pools"]["observations"], "n1", "bad_values")[k],
        lambda k=_key: pool_step(pools_run(), "n1", "bad_values")[k],
    )


# await_all_inports --------------------------------------------------------------------------


def record_await(ctx: Any, obs: list[Any]) -> None:
    obs.append({port: as_dict(msg) for port, msg in sorted(ctx.inputs.items())})
    ctx.done()


def _without_sequence(g: dict[str, Any]) -> Any:
    return {k: v for k, v in whole("await_all_pairing")(g).items() if k != "iip_sequence"}  # an input, not a fact


@row("await_all_pairing", golden=_without_sequence)
def await_all_pairing() -> Any:
    seq = [("a", 1), ("b", 10), ("a", 2), ("a", 3), ("b", 20), ("b", 30)]
    iips = [("probe", port, tagged("Integer", v)) for port, v in seq]
    return scenario(record_await, iips, await_all=True, inports=("a", "b"))


@row("await_all_one_port_only")
def await_all_one_port_only() -> Any:
    iips = [("probe", "a", tagged("Integer", v)) for v in (1, 2)]
    return scenario(record_await, iips, await_all=True, inports=("a", "b"))


@row("await_all_undeclared_port")
def await_all_undeclared_port() -> Any:
    refused: list[Any] = []

    def iips(net: Network) -> None:
        net.add_initial("probe", "a", tagged("Integer", 1))
        refused.append(err(lambda: net.add_initial("probe", "c", tagged("Integer", 5))))
        net.add_initial("probe", "b", tagged("Integer", 2))

    result = scenario(record_await, [], await_all=True, inports=("a", "b"), before_run=iips)
    return {"add_initial": refused[0], **result}


# -- our expected results where we differ ---------------------------------------------------------


def inputs_as_messages(golden: dict[str, Any]) -> dict[str, Any]:
    """Golden ctx.inputs observations as ours: Message values, Bytes data in memory."""
    observations = []
    for obs in golden["observations"]:
        inputs = {}
        for port, message in obs["inputs"].items():
            if message["type"] in ("Bytes", "Encoded"):
                message = {**message, "data": py(repr(bytes(message["data"])))}
            inputs[port] = message
        observations.append({**obs, "inputs": inputs, "value_types": ["Message"]})
    return {**golden, "observations": observations}


def our_inputs(*messages: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"inputs": {"in": m}, "inputs_type": "dict", "value_types": ["Message"]} for m in messages]


def _int(value: int) -> dict[str, Any]:
    return {"data": value, "type": "Integer"}


def _str(value: str) -> dict[str, Any]:
    return {"data": value, "type": "String"}


RESOLVED = error("RuntimeError", "actor context already resolved", ours="ContextError")
UNDECLARED_OUT = error("ValueError", "node 'probe' has no outport 'zzz'", ours="PortError")


def second(result: Any) -> Callable[[Any], Any]:
    return lambda g: {**g, "second": result}


def first(result: Any) -> Callable[[Any], Any]:
    return lambda g: {**g, "first": result}


CONFIG_PER_TICK = (
    "ctx.config is one copy of the node's config per tick: a change made in a tick is seen for the rest "
    "of that tick and never by later ticks; the reference returns a new copy at every access, so "
    "ctx.config['x'] = 1 is lost at once"
)


def config_mutation_kept_in_tick(golden: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**o, "config_after_item_mutation": {**o["config_after_item_mutation"], "mutated": True}} for o in golden]


DEVIATIONS: dict[str, Deviation] = {
    "config/config_after_item_mutation": Deviation(CONFIG_PER_TICK, change=config_mutation_kept_in_tick),
    "inputs_per_kind_via_iip": Deviation(f"{INPUTS_ARE_MESSAGES}; {BYTES_IN_MEMORY}", change=inputs_as_messages),
    "inputs_per_kind_via_connection": Deviation(
        f"{INPUTS_ARE_MESSAGES}; {BYTES_IN_MEMORY}", change=inputs_as_messages
    ),
    "streamhandle_iip_unknown_stream": Deviation(INPUTS_ARE_MESSAGES, change=inputs_as_messages),
    "float_nan_via_connection": Deviation(
        NAN_CROSSES,
        result={
            "sent": ["Float nan", "Integer"],
            "observations": our_inputs({"data": NAN, "type": "Float"}, _int(1)),
        },
    ),
    "encoded_iip": Deviation(
        ENCODED_OPAQUE,
        result={"received": {}, "observations": our_inputs({"data": py("b'\\x01\\x02\\x03'"), "type": "Encoded"})},
    ),
    "iip_on_undeclared_port": Deviation(
        PORTS_VALIDATED,
        result={
            "add_initial": error("ValueError", "node 'probe' has no inport 'undeclared'", ours="PortError"),
            "received": {},
            "observations": [],
        },
    ),
    "emit_undeclared_port": Deviation(
        f"{PORTS_VALIDATED}; {FAILURES_REPORTED}",
        result={
            "add_connection": UNDECLARED_OUT,
            "received": {"out": [_str("after")]},
            "observations": [],
            "actor_failed": ["PortError"],
        },
    ),
    "emit_unconnected_port": Deviation(
        PORTS_VALIDATED,
        result={
            "received": {"out": [_int(2)]},
            "observations": [{"emit": error("ValueError", "node 'probe' has no outport 'nowhere'", ours="PortError")}],
        },
    ),
    "send_survives_fail": Deviation(FAILURES_REPORTED, change=lambda g: {**g, "actor_failed": ["x"]}),
    "fail_discards_emits": Deviation(FAILURES_REPORTED, change=lambda g: {**g, "actor_failed": ["x"]}),
    "raise_then_next_packet": Deviation(FAILURES_REPORTED, change=lambda g: {**g, "actor_failed": ["ValueError"]}),
    "return_without_done": Deviation(
        IMPLICIT_DONE,
        result={"received": {"out": [_int(1)], "a": [_int(1)], "b": [_str("after")]}, "observations": []},
    ),
    "context_misuse/emit after done (out 100)": Deviation(RESOLVED_IS_FINAL, change=second(RESOLVED)),
    "context_misuse/send after done (out 101)": Deviation(RESOLVED_IS_FINAL, change=second(RESOLVED)),
    "context_misuse/send after fail (out 102)": Deviation(RESOLVED_IS_FINAL, change=second(RESOLVED)),
    "context_misuse/done({out: None}) then done(out 7)": Deviation(
        NONE_IS_NOTHING, change=lambda g: {**g, "first": {"returned": None}, "second": RESOLVED}
    ),
    "context_misuse/send({out: None}) then done(out 15)": Deviation(NONE_IS_NOTHING, change=first({"returned": None})),
    "context_misuse/emit(out, None) then done(out 18)": Deviation(NONE_IS_NOTHING, change=first({"returned": None})),
    "context_misuse/fail(5) then done(out 20)": Deviation(
        FAIL_ANY_VALUE, change=lambda g: {**g, "first": {"returned": None}, "second": RESOLVED}
    ),
    "context_misuse/received": Deviation(
        f"{RESOLVED_IS_FINAL} (no 101, 102); {NONE_IS_NOTHING} (no 7); {FAIL_ANY_VALUE} (no 20); "
        f"{FAILURES_REPORTED} (done after fail, fail twice, send after fail, fail(5))",
        result={
            "received": {"out": [_int(v) for v in (3, 4, 5, 6, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 21)]},
            "actor_failed": ["x", "x", "x", "5"],
        },
    ),
    "ctx_members/type": Deviation(CTX_CLASS, result="TickContext"),
    "ctx_members/members": Deviation(CTX_CLASS, change=lambda g: sorted([*g, "connected", "node_id", "send_async", "state", "stopping"])),
    "pools/n1:bad_values/upsert_message": Deviation(POOL_MESSAGES, result={"returned": None}),
    "pools/n1:bad_values/pool_q": Deviation(
        POOL_MESSAGES, result={"returned": {"m": {"$message": _int(1)}, "n": NAN}}
    ),
    "await_all_pairing": Deviation(
        AWAIT_ALL_FIFO,
        result={
            "received": {},
            "observations": [{"a": _int(a), "b": _int(b)} for a, b in ((1, 10), (2, 20), (3, 30))],
        },
    ),
    "await_all_one_port_only": Deviation(
        AWAIT_ALL_CONNECTED, result={"received": {}, "observations": [{"a": _int(1)}, {"a": _int(2)}]}
    ),
    "await_all_undeclared_port": Deviation(
        PORTS_VALIDATED,
        result={
            "add_initial": error("ValueError", "node 'probe' has no inport 'c'", ours="PortError"),
            "received": {},
            "observations": [{"a": _int(1), "b": _int(2)}],
        },
    ),
}

#: Differences that are bugs in reflow_cli/actor.py or the engine (xfail(strict=True) until fixed).
KNOWN_BUGS: dict[str, str] = {}


def expected_result(row_id: str, golden: Any) -> Any:
    deviation = DEVIATIONS.get(row_id)
    if deviation is None:
        return golden
    if deviation.change is not None:
        return deviation.change(golden)
    return deviation.result


def marks(row_id: str) -> list[Any]:
    if row_id in KNOWN_BUGS:
        return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[row_id])]
    return []


# -- the tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("row_id", [pytest.param(r, id=r, marks=marks(r)) for r in ROWS])
def test_replay(row_id: str) -> None:
    spec = ROWS[row_id]
    golden = spec.golden(GOLDEN)
    compare(expected_result(row_id, golden), spec.ours(), row_id)


def test_every_golden_case_is_replayed() -> None:
    assert {row_id.split("/")[0] for row_id in ROWS} == set(GOLDEN)


def test_deviation_tables_name_rows() -> None:
    assert not (set(DEVIATIONS) - set(ROWS)), "stale DEVIATIONS entries"
    assert not (set(KNOWN_BUGS) - set(ROWS)), "stale KNOWN_BUGS entries"
    assert not (set(DEVIATIONS) & set(KNOWN_BUGS)), "a row cannot be both a deviation and a bug"


def test_deviations_really_differ_from_the_reference() -> None:
    for row_id in DEVIATIONS:
        golden = ROWS[row_id].golden(GOLDEN)
        assert expected_result(row_id, golden) != golden, row_id


def test_cases_that_killed_the_reference_are_deviations() -> None:
    """The reference aborted on these; ours must run them (so each needs our result)."""
    for case, result in GOLDEN.items():
        if isinstance(result, dict) and result.get("outcome") in ("aborted", "timeout"):
            assert case in DEVIATIONS, case


# -- what the goldens cannot show -----------------------------------------------------------------------


def test_inputs_are_read_only_message_mappings() -> None:
    """INPUTS_ARE_MESSAGES: ctx.inputs[port] reads like the reference's dict but cannot be mutated."""
    seen: list[Any] = []

    def body(ctx: Any, obs: list[Any]) -> None:
        message = ctx.inputs["in"]
        seen.append((isinstance(message, Message), isinstance(message, Mapping), dict(message), message["data"]))
        with pytest.raises(TypeError):
            message["data"] = 1  # type: ignore[index]
        ctx.done({"out": message})  # forwarded as it is, as in the reference's dict form

    result = scenario(body, [("probe", "in", tagged("Integer", 21))])
    assert seen == [(True, True, {"type": "Integer", "data": 21}, 21)]
    assert result["received"] == {"out": [_int(21)]}


def test_await_all_with_a_connected_port_that_never_fills_stalls() -> None:
    """The reference never fires and never says so; ours never fires and reports STALLED."""
    obs: list[Any] = []
    silent = make_actor(lambda ctx: ctx.done(), inports=("in",), outports=("out",), component="silent")
    probe = make_actor(lambda ctx: record_await(ctx, obs), inports=("a", "b"), outports=(), await_all=True)
    result = run_network(
        {"tpl_probe": probe, "tpl_silent": silent},
        [("probe", "tpl_probe"), ("silent", "tpl_silent")],
        [("silent", "out", "probe", "b")],
        [("probe", "a", tagged("Integer", 1)), ("silent", "in", tagged("Flow", no_data=True))],
    )
    assert result.status == RunState.STALLED
    assert obs == []
