"""ActorCallContext behaviour observed inside real running reference networks.

Each case builds a small network: a ``probe`` node (a Python Actor whose run()
does the scenario) wired port-by-port to a ``sink`` node (port ``p`` of the
probe -> port ``p`` of the sink).  ``received`` is what the sink got, grouped by
port (arrival order within a port; across ports the order is not deterministic).
``observations`` are values recorded inside run() (inputs, config, errors
raised by ctx methods and caught there), in tick order.  ``all_expected_arrived``
says whether everything the case waited for arrived within its wait (false where
the point is that something never comes, e.g. await_all_one_port_only).  Cases
recorded as ``aborted`` killed the reference process (see their ``panic``).
"""

from __future__ import annotations

import math
from typing import Any, Callable

from _harness import case, describe_exc, encode
from _net import Recorder, by_port, make_actor, run_network, sink_actor
from offbit_reflow import Message

GOLDEN = "context.json"
ISOLATE = True
ABOUT = __doc__

PORTS = ("out", "a", "b", "zzz")


def tagged(tag: str, data: Any = None, no_data: bool = False) -> dict[str, Any]:
    return {"type": tag} if no_data else {"type": tag, "data": data}


def scenario(
    run: Callable[[Any, Recorder], None],
    iips: list[tuple[str, str, Any]],
    expect_sink: int = 0,
    expect_obs: int = 0,
    await_all: bool = False,
    inports: tuple[str, ...] = ("in",),
    extra_nodes: list[tuple[Any, ...]] = (),  # type: ignore[assignment]
    settle: float = 0.3,
    max_wait: float = 3.0,
) -> dict[str, Any]:
    sink_rec, obs = Recorder(), Recorder()
    probe = make_actor(lambda ctx: run(ctx, obs), inports=inports, outports=PORTS[:3], await_all=await_all)
    nodes = [("probe", "tpl_probe"), ("sink", "tpl_sink"), *extra_nodes]
    connections = [("probe", port, "sink", port) for port in PORTS]
    status = run_network(
        {"tpl_probe": probe, "tpl_sink": sink_actor(sink_rec, PORTS)},
        nodes,
        connections,
        iips,
        until=lambda: len(sink_rec) >= expect_sink and len(obs) >= expect_obs,
        settle=settle,
        max_wait=max_wait,
    )
    return {
        "received": by_port(sink_rec.snapshot()),
        "observations": obs.snapshot(),
        **status,
    }


def err(fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_exc(exc)}
    return {"returned": encode(value)}


# -- inputs ----------------------------------------------------------------------

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


def record_inputs(ctx: Any, obs: Recorder) -> None:
    obs.add(
        {
            "inputs_type": type(ctx.inputs).__name__,
            "value_types": sorted({type(v).__name__ for v in ctx.inputs.values()}),
            "inputs": encode(ctx.inputs),
        }
    )
    ctx.done()


@case("inputs_per_kind_via_iip")
def inputs_per_kind_via_iip() -> Any:
    """One IIP of each kind on port 'in'; ctx.inputs as seen by the probe."""
    return scenario(record_inputs, [("probe", "in", m) for m in KIND_IIPS], expect_obs=len(KIND_IIPS))


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
    obs = Recorder()

    def src(ctx: Any) -> None:
        for _name, make in kinds:
            ctx.send({"out": make()})
        ctx.done()

    status = run_network(
        {
            "tpl_src": make_actor(src, component="src"),
            "tpl_probe": make_actor(lambda ctx: record_inputs(ctx, obs), outports=()),
        },
        [("src", "tpl_src"), ("probe", "tpl_probe")],
        [("src", "out", "probe", "in")],
        [("src", "in", tagged("Flow", no_data=True))],
        until=lambda: len(obs) >= len(kinds),
    )
    return {"sent": [name for name, _m in kinds], "observations": obs.snapshot(), **status}


@case("inputs_per_kind_via_connection")
def inputs_per_kind_via_connection() -> Any:
    return connection_scenario(CONNECTION_KINDS)


@case("float_nan_via_connection")
def float_nan_via_connection() -> Any:
    """Message.float(nan) sent over a connection (its JSON form has data null)."""
    return connection_scenario([("Float nan", lambda: Message.float(math.nan)), ("Integer", lambda: Message.integer(1))])


@case("encoded_iip")
def encoded_iip() -> Any:
    """An Encoded IIP whose bytes are not bitcode (anchor: aborts the process)."""
    return scenario(record_inputs, [("probe", "in", tagged("Encoded", [1, 2, 3]))], expect_obs=1)


@case("streamhandle_iip_unknown_stream")
def streamhandle_iip_unknown_stream() -> Any:
    """A StreamHandle IIP naming a stream that does not exist."""
    handle = {"stream_id": 999999, "origin_actor": "x", "origin_port": "y", "content_type": None, "size_hint": None}
    return scenario(record_inputs, [("probe", "in", tagged("StreamHandle", handle))], expect_obs=1)


@case("iip_on_undeclared_port")
def iip_on_undeclared_port() -> Any:
    return scenario(record_inputs, [("probe", "undeclared", tagged("Integer", 1))], expect_obs=1)


# -- config ------------------------------------------------------------------------


@case("config")
def config() -> Any:
    """ctx.config per add_node config (IIP Integer i identifies the node)."""
    obs = Recorder()

    def run(ctx: Any) -> None:
        entry: dict[str, Any] = {
            "node_marker": ctx.inputs["in"]["data"],
            "config": encode(ctx.config),
            "config_type": type(ctx.config).__name__,
        }
        try:
            ctx.config["mutated"] = True
            entry["mutate_item"] = "ok"
        except BaseException as exc:  # noqa: BLE001
            entry["mutate_item"] = describe_exc(exc)
        entry["config_after_item_mutation"] = encode(ctx.config)
        try:
            ctx.config = {"replaced": 1}
            entry["assign_attribute"] = "ok"
        except BaseException as exc:  # noqa: BLE001
            entry["assign_attribute"] = describe_exc(exc)
        obs.add(entry)
        ctx.done()

    nodes = [
        ("n1_none", "tpl_probe", None),
        ("n2_dict", "tpl_probe", {"a": 1, "nested": {"b": [1, 2]}, "s": "x"}),
        ("n3_omitted", "tpl_probe"),
        ("n4_empty", "tpl_probe", {}),
    ]
    iips = [(node[0], "in", tagged("Integer", i + 1)) for i, node in enumerate(nodes)]
    # a second tick on n2 shows whether the in-run mutation persisted
    iips.append(("n2_dict", "in", tagged("Integer", 22)))
    status = run_network(
        {"tpl_probe": make_actor(run, outports=())}, nodes, (), iips, until=lambda: len(obs) >= len(iips)
    )
    observations = sorted(obs.snapshot(), key=lambda e: e["node_marker"])
    errors = {}
    from offbit_reflow import Network

    for label, bad in (("list", [1]), ("string", "x"), ("int", 5), ("tuple", ("a", 1))):
        net = Network()
        net.register_actor("tpl_probe", make_actor(run, outports=()))
        try:
            net.add_node("n", "tpl_probe", bad)
            errors[label] = "accepted"
        except BaseException as exc:  # noqa: BLE001
            errors[label] = describe_exc(exc)
    return {
        "node_markers": {"1": "config None", "2": "config dict", "3": "config omitted", "4": "config {}", "22": "second tick of node 2"},
        "observations": observations,
        "add_node_config_errors": errors,
        **status,
    }


# -- emit / send / done / fail -------------------------------------------------------


def ticks(*bodies: Callable[[Any, Recorder], None]) -> tuple[Callable[[Any, Recorder], None], list[Any]]:
    """A run() dispatching on the IIP's Integer data: tick i runs bodies[i]."""

    def run(ctx: Any, obs: Recorder) -> None:
        bodies[ctx.inputs["in"]["data"]](ctx, obs)

    return run, [("probe", "in", tagged("Integer", i)) for i in range(len(bodies))]


def sc(*bodies: Callable[[Any, Recorder], None], expect_sink: int = 0, expect_obs: int = 0, **kw: Any) -> Any:
    run, iips = ticks(*bodies)
    return scenario(run, iips, expect_sink=expect_sink, expect_obs=expect_obs, **kw)


def after(port: str = "out", value: str = "after") -> Callable[[Any, Recorder], None]:
    def body(ctx: Any, obs: Recorder) -> None:
        ctx.done({port: Message.string(value)})

    return body


@case("emit_collapse")
def emit_collapse() -> Any:
    """emit(out,1); emit(out,2); emit(out,3); done()."""

    def body(ctx: Any, obs: Recorder) -> None:
        for i in (1, 2, 3):
            ctx.emit("out", Message.integer(i))
        ctx.done()

    return sc(body, after(), expect_sink=2)


@case("done_overrides_emit")
def done_overrides_emit() -> Any:
    """emit(out,1); done({out: 2})."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.emit("out", Message.integer(1))
        ctx.done({"out": Message.integer(2)})

    return sc(body, after(), expect_sink=2)


@case("emit_separate_ports")
def emit_separate_ports() -> Any:
    """emit(a,1); emit(b,2); done({out: 3})."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.emit("a", Message.integer(1))
        ctx.emit("b", Message.integer(2))
        ctx.done({"out": Message.integer(3)})

    return sc(body, expect_sink=3)


@case("emit_undeclared_port")
def emit_undeclared_port() -> Any:
    """emit('zzz', 1) (not in outports, but connected to sink.zzz); done()."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.emit("zzz", Message.integer(1))
        ctx.done()

    return sc(body, after(), expect_sink=2)


@case("emit_unconnected_port")
def emit_unconnected_port() -> Any:
    """emit('nowhere', 1); done({out: 2}): no error, the packet goes nowhere."""

    def body(ctx: Any, obs: Recorder) -> None:
        obs.add({"emit": err(lambda: ctx.emit("nowhere", Message.integer(1)))})
        ctx.done({"out": Message.integer(2)})

    return sc(body, expect_sink=1, expect_obs=1)


@case("tagged_dicts_accepted")
def tagged_dicts_accepted() -> Any:
    """send/emit/done with tagged dicts instead of Message objects."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.send({"a": {"type": "Integer", "data": 1}})
        ctx.emit("b", {"type": "String", "data": "e"})
        ctx.done({"out": {"type": "Flow"}})

    return sc(body, expect_sink=3)


@case("send_order_then_done")
def send_order_then_done() -> Any:
    """send(out 1); send(out 2); emit(out 3); done({out: 4})."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.send({"out": Message.integer(1)})
        ctx.send({"out": Message.integer(2)})
        ctx.emit("out", Message.integer(3))
        ctx.done({"out": Message.integer(4)})

    return sc(body, expect_sink=3)


@case("send_several_ports_one_call")
def send_several_ports_one_call() -> Any:
    """send({a: 1, b: 2}); done()."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.send({"a": Message.integer(1), "b": Message.integer(2)})
        ctx.done()

    return sc(body, expect_sink=2)


@case("send_survives_fail")
def send_survives_fail() -> Any:
    """tick 0: send(out 1); fail('x'). tick 1: done({out: 'after'})."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.send({"out": Message.integer(1)})
        ctx.fail("x")

    return sc(body, after(), expect_sink=2)


@case("fail_discards_emits")
def fail_discards_emits() -> Any:
    """tick 0: emit(out 1); fail('x'). tick 1: done({out: 'after'})."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.emit("out", Message.integer(1))
        ctx.fail("x")

    return sc(body, after(), expect_sink=1)


@case("raise_then_next_packet")
def raise_then_next_packet() -> Any:
    """tick 0: emit(out 1); raise ValueError. tick 1: done({out: 'after'})."""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.emit("out", Message.integer(1))
        raise ValueError("bad")

    return sc(body, after(), expect_sink=1)


@case("return_without_done")
def return_without_done() -> Any:
    """tick 0: emit(out 1); emit(a 1); return. tick 1: done({b: 'after'}) - are tick 0's emits flushed then?"""

    def body(ctx: Any, obs: Recorder) -> None:
        ctx.emit("out", Message.integer(1))
        ctx.emit("a", Message.integer(1))

    return sc(body, after("b"), expect_sink=1)


def misuse(name: str, first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any, Recorder], None]:
    def body(ctx: Any, obs: Recorder) -> None:
        obs.add({"tick": name, "first": err(lambda: first(ctx)), "second": err(lambda: second(ctx))})

    return body


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
    ("fail() then done(out 21)", lambda c: c.fail(), then_done(21)),
]


@case("context_misuse")
def context_misuse() -> Any:
    """Per tick: a first ctx call, then a second one; errors are caught inside run()."""
    bodies = [misuse(name, first, second) for name, first, second in MISUSES]
    return sc(*bodies, expect_obs=len(bodies), settle=0.5)


@case("ctx_members")
def ctx_members() -> Any:
    """Public attributes of the ctx object and the signatures the runtime reports."""

    def body(ctx: Any, obs: Recorder) -> None:
        members = sorted(name for name in dir(ctx) if not name.startswith("_"))
        signatures = {}
        for name in members:
            member = getattr(type(ctx), name, None)
            signatures[name] = getattr(member, "__text_signature__", None)
        obs.add({"type": type(ctx).__name__, "members": members, "text_signatures": signatures})
        ctx.done()

    return sc(body, expect_obs=1)


# -- pools --------------------------------------------------------------------------


def pool_ops(ctx: Any, obs: Recorder) -> None:
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
        out["returned_dict_is_copy"] = None
        pool = ctx.pool("q")
        pool["injected"] = 1
        out["returned_dict_is_copy"] = "injected" not in ctx.pool("q")
    obs.add(out)
    ctx.done()


@case("pools")
def pools() -> Any:
    """Two nodes n1, n2 of one template. n1 runs fill, read, overwrite_remove_clear,
    bad_values (IIPs, sequential); n1's read tick forwards {op: read} to n2 over a
    connection, so n2 reads only after n1 has filled its pool."""
    steps = [("n1", "fill"), ("n1", "read"), ("n1", "overwrite_remove_clear"), ("n1", "bad_values")]
    obs = Recorder()

    def run(ctx: Any) -> None:
        pool_ops(ctx, obs)

    def pool_ops_and_forward(ctx: Any) -> None:
        step = ctx.inputs["in"]["data"]
        if step["node"] == "n1" and step["op"] == "read":
            ctx.send({"out": Message.object({"node": "n2", "op": "read"})})
        run(ctx)

    actor = make_actor(pool_ops_and_forward, outports=("out",))
    status = run_network(
        {"tpl_pool": actor},
        [("n1", "tpl_pool"), ("n2", "tpl_pool")],
        [("n1", "out", "n2", "in")],
        [(node, "in", tagged("Object", {"node": node, "op": op})) for node, op in steps],
        until=lambda: len(obs) >= len(steps) + 1,
    )
    order = {key: i for i, key in enumerate([*steps, ("n2", "read")])}
    results = sorted(obs.snapshot(), key=lambda o: order[(o["node"], o["op"])])
    return {"steps": [f"{node}:{op}" for node, op in [*steps, ("n2", "read")]], "observations": results, **status}


# -- await_all_inports ----------------------------------------------------------------


def record_await(ctx: Any, obs: Recorder) -> None:
    obs.add({port: encode(msg) for port, msg in sorted(ctx.inputs.items())})
    ctx.done()


@case("await_all_pairing")
def await_all_pairing() -> Any:
    """await_all_inports=True, inports [a, b]; IIPs a1 b10 a2 a3 b20 b30."""
    seq = [("a", 1), ("b", 10), ("a", 2), ("a", 3), ("b", 20), ("b", 30)]
    iips = [("probe", port, tagged("Integer", v)) for port, v in seq]
    result = scenario(record_await, iips, expect_obs=3, await_all=True, inports=("a", "b"), max_wait=1.5)
    result["iip_sequence"] = [f"{port}{v}" for port, v in seq]
    return result


@case("await_all_one_port_only")
def await_all_one_port_only() -> Any:
    """await_all_inports=True, inports [a, b]; IIPs only on a."""
    iips = [("probe", "a", tagged("Integer", v)) for v in (1, 2)]
    return scenario(record_await, iips, expect_obs=1, await_all=True, inports=("a", "b"), max_wait=1.0)


@case("await_all_undeclared_port")
def await_all_undeclared_port() -> Any:
    """await_all_inports=True, inports [a, b]; IIPs a1, c5 (undeclared), b2."""
    iips = [("probe", "a", tagged("Integer", 1)), ("probe", "c", tagged("Integer", 5)), ("probe", "b", tagged("Integer", 2))]
    return scenario(record_await, iips, expect_obs=2, await_all=True, inports=("a", "b"), max_wait=1.0)
