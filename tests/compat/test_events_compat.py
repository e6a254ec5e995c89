"""Network events (``net.events()``) against ``golden/events.json``, recorded from offbit-reflow 0.2.9.

The scenarios of ``probes/events.py`` are rebuilt with ``reflow_cli`` and run
to completion; the events a subscriber drained are reduced exactly as the
probe reduced them (``_type``s, field names and JSON types, the ``message``
field per message kind, examples without timestamps) and compared with the
golden file. Golden cases are split into rows (``case/aspect``).

* ``DEVIATIONS``: where we *deliberately* differ; the reason and **our**
  expected value, which is asserted (never skipped).
* ``KNOWN_BUGS``: differences that should not exist; ``xfail(strict=True)``
  until the engine is fixed.

Comparisons are type-strict (``True`` is not ``1``): both sides are compared
as canonical JSON text.
"""

from __future__ import annotations

import functools
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import Actor, Message, Network, RunState

GOLDEN_FILE = Path(__file__).resolve().parent / "golden" / "events.json"
GOLDEN: dict[str, Any] = json.loads(GOLDEN_FILE.read_text(encoding="utf-8"))["cases"]
TIMEOUT = 10.0

# -- why we differ ------------------------------------------------------------------

BYTES_SHOWN_AS_LENGTH = (
    "Bytes show as '[binary:<len>]' in both MessageReceived and MessageSent; the reference shows "
    "the int list in one and '[binary]' in the other"
)
MORE_EVENT_TYPES = (
    "more event types: ActorFailed (a failed tick), ActorStopped (a node's task ended), "
    "NetworkIdle (the run completed), NetworkStalled, EventsDropped, TickBatch (how long a batch "
    "of ticks took); the reference has none of them (its failures and completion are invisible)"
)
FROM_CREATION_ON = (
    "a subscriber sees the events published after its creation (subscribe before start() to see "
    "them all); the reference queues events from network creation and hands the backlog to "
    "whoever subscribes first"
)

#: The event types the reference never emits and we do, with their fields and JSON types.
OUR_EXTRA_TYPES = {
    "ActorFailed": {
        "_type": ["string"],
        "actorId": ["string"],
        "component": ["string"],
        "error": ["string"],
        "message": ["object"],
        "timestamp": ["integer"],
    },
    "ActorStopped": {"_type": ["string"], "actorId": ["string"], "ticks": ["integer"], "timestamp": ["integer"]},
    "NetworkIdle": {"_type": ["string"], "timestamp": ["integer"]},
    "TickBatch": {
        "_type": ["string"],
        "actorId": ["string"],
        "seconds": ["float"],
        "ticks": ["integer"],
        "timestamp": ["integer"],
    },
}
#: Fields some events of a type carry and others not (a TickBatch of one tick has no histogram).
OPTIONAL_FIELDS = {"TickBatch": {"maxSeconds", "histogram"}}


def without_optional(fields: dict[str, Any]) -> dict[str, Any]:
    """Field types per event type, less the optional fields."""
    return {t: {k: v for k, v in f.items() if k not in OPTIONAL_FIELDS.get(t, ())} for t, f in fields.items()}


@dataclass(frozen=True)
class Deviation:
    """A deliberate difference: our value is ``result``, or ``change(golden)``."""

    reason: str
    result: Any = None
    change: Callable[[Any], Any] | None = None


# -- observing events (as probes/events.py does) ---------------------------------------------


def json_type(value: Any) -> str:
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


def encode(value: Any) -> Any:
    if type(value) is float and not math.isfinite(value):
        return {"$py": repr(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"$py": repr(value)}


def field_types(events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, dict[str, set[str]]] = {}
    for event in events:
        fields = out.setdefault(event.get("_type", "<no _type>"), {})
        for key, value in event.items():
            fields.setdefault(key, set()).add(json_type(value))
    return {t: {k: sorted(v) for k, v in sorted(f.items())} for t, f in sorted(out.items())}


def strip_timestamp(event: dict[str, Any]) -> dict[str, Any]:
    return {k: encode(v) for k, v in event.items() if k != "timestamp"}


def of_type(events: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [e for e in events if e.get("_type") == name]


def make_actor(run: Callable[[Any], Any], outports: tuple[str, ...] = ("out",), component: str = "probe") -> Actor:
    klass = type(
        "ProbeActor",
        (Actor,),
        {"component": component, "inports": ["in"], "outports": list(outports), "run": lambda self, ctx: run(ctx)},
    )
    return klass()


def sink_actor(got: list[Any]) -> Actor:
    def run(ctx: Any) -> None:
        got.extend(ctx.inputs.items())
        ctx.done()

    return make_actor(run, outports=(), component="sink")


SH = {"stream_id": 999999, "origin_actor": "x", "origin_port": "y", "content_type": "text/plain", "size_hint": None}
KINDS: list[tuple[str, dict[str, Any]]] = [
    ("Integer", {"type": "Integer", "data": 21}),
    ("String", {"type": "String", "data": "s"}),
    ("Flow", {"type": "Flow"}),
    ("Bytes", {"type": "Bytes", "data": [1, 2]}),
    ("Object", {"type": "Object", "data": {"a": 1}}),
    ("Array", {"type": "Array", "data": [1, "x"]}),
    ("Optional null", {"type": "Optional", "data": None}),
    ("Optional value", {"type": "Optional", "data": 3}),
    ("Error", {"type": "Error", "data": "boom"}),
    ("Float", {"type": "Float", "data": 1.5}),
    ("Boolean", {"type": "Boolean", "data": True}),
    ("Any", {"type": "Any", "data": 5}),
    ("Event", {"type": "Event", "data": {"e": 1}}),
    ("RemoteReference", {"type": "RemoteReference", "data": {"network_id": "n", "actor_id": "a", "port": "p"}}),
    ("NetworkEvent", {"type": "NetworkEvent", "data": {"event_type": "NetworkConnected", "data": None}}),
    ("StreamHandle", {"type": "StreamHandle", "data": SH}),
]


@dataclass
class KindsRun:
    events: list[dict[str, Any]]
    second_subscriber: list[dict[str, Any]]
    recv_after_drain: Any
    sink_received: int
    t0: float
    t1: float


@functools.cache
def kinds_run() -> KindsRun:
    """src gets one IIP per kind on 'in' and forwards it on 'out' to sink (as the probe)."""
    got: list[Any] = []
    net = Network()
    forward = make_actor(lambda ctx: ctx.done({"out": Message.from_json(ctx.inputs["in"])}), component="src")
    net.register_actor("tpl_src", forward)
    net.register_actor("tpl_sink", sink_actor(got))
    net.add_node("src", "tpl_src")
    net.add_node("sink", "tpl_sink")
    net.add_connection("src", "out", "sink", "in")
    for _name, message in KINDS:
        net.add_initial("src", "in", message)
    stream, second = net.events(), net.events()
    t0 = time.time()
    assert net.run(timeout=TIMEOUT) == RunState.COMPLETE
    t1 = time.time()
    events = list(stream)  # ends once the network has stopped and the buffer is drained
    return KindsRun(events, list(second), stream.recv(), len(got), t0, t1)


def kinds_message_values(name: str) -> dict[str, Any]:
    events = kinds_run().events
    received, sent = of_type(events, "MessageReceived"), of_type(events, "MessageSent")
    index = [k for k, _m in KINDS].index(name)
    return {
        "MessageReceived.message": encode(received[index]["message"]),
        "MessageSent.message": encode(sent[index]["message"]),
    }


def kinds_examples() -> dict[str, Any]:
    events = kinds_run().events
    return {
        "ActorStarted": sorted(
            (strip_timestamp(e) for e in of_type(events, "ActorStarted")), key=lambda e: e["actorId"]
        ),
        "MessageReceived": strip_timestamp(of_type(events, "MessageReceived")[0]),
        "MessageSent": strip_timestamp(of_type(events, "MessageSent")[0]),
        "NetworkStarted": [strip_timestamp(e) for e in of_type(events, "NetworkStarted")],
        "NetworkShutdown": [strip_timestamp(e) for e in of_type(events, "NetworkShutdown")],
    }


def timestamps_are_epoch_ms(run: KindsRun) -> bool:
    stamps = [e["timestamp"] for e in run.events if "timestamp" in e]
    return bool(stamps) and all(
        type(s) is int and run.t0 * 1000 - 2000 <= s <= run.t1 * 1000 + 2000 for s in stamps
    )


@functools.cache
def fan_out_and_failure() -> dict[str, Any]:
    """src gets IIPs 1 (-> out, wired to sink1.in and sink2.in), 2 (-> ctx.fail) and 3 (-> raises)."""
    got: list[Any] = []

    def src(ctx: Any) -> None:
        value = ctx.inputs["in"]["data"]
        if value == 1:
            ctx.done({"out": Message.integer(1)})
        elif value == 2:
            ctx.fail("failed on purpose")
        else:
            raise ValueError("raised on purpose")

    net = Network()
    net.register_actor("tpl_src", make_actor(src, component="src"))
    net.register_actor("tpl_sink", sink_actor(got))
    net.add_node("src", "tpl_src")
    net.add_node("sink1", "tpl_sink")
    net.add_node("sink2", "tpl_sink")
    net.add_connection("src", "out", "sink1", "in")
    net.add_connection("src", "out", "sink2", "in")
    for value in (1, 2, 3):
        net.add_initial("src", "in", {"type": "Integer", "data": value})
    stream = net.events()
    assert net.run(timeout=TIMEOUT) == RunState.COMPLETE
    events = list(stream)
    sent = [strip_timestamp(e) for e in of_type(events, "MessageSent")]
    return {
        "types_seen": sorted({e["_type"] for e in events}),
        "MessageSent": sorted(sent, key=lambda e: e["toActor"]),
        "sink_packets": len(got),
        "ActorFailed": [strip_timestamp(e) for e in of_type(events, "ActorFailed")],
    }


def drain(stream: Any, quiet_ms: int = 50) -> list[str]:
    types = []
    while (event := stream.recv(quiet_ms)) is not None:
        types.append(event["_type"])
    return types


def late_subscriber() -> dict[str, Any]:
    """events() called only after start() (and after the IIP was processed)."""
    got: list[Any] = []
    net = Network()
    net.register_actor("tpl_src", make_actor(lambda ctx: ctx.done({"out": Message.integer(1)}), component="src"))
    net.register_actor("tpl_sink", sink_actor(got))
    net.add_node("src", "tpl_src")
    net.add_node("sink", "tpl_sink")
    net.add_connection("src", "out", "sink", "in")
    net.add_initial("src", "in", {"type": "Flow"})
    net.start()
    assert net.wait(TIMEOUT) == RunState.COMPLETE and len(got) == 1
    stream = net.events()
    backlog = drain(stream)
    net.shutdown()
    return {"backlog_types": sorted(backlog), "after_shutdown_types": sorted(drain(stream))}


def no_events_without_start() -> dict[str, Any]:
    """A network that is never started, then shut down."""
    net = Network()
    stream = net.events()
    before = drain(stream)
    net.shutdown()
    return {"before_shutdown": before, "after_shutdown": drain(stream)}


# -- the rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    golden: Callable[[dict[str, Any]], Any]
    ours: Callable[[], Any]


ROWS: dict[str, Row] = {
    "kinds/fields": Row(
        lambda g: g["kinds"]["fields"],
        lambda: {t: f for t, f in field_types(kinds_run().events).items() if t in GOLDEN["kinds"]["fields"]},
    ),
    "kinds/more_event_types": Row(
        lambda g: {},
        lambda: without_optional(
            {t: f for t, f in field_types(kinds_run().events).items() if t not in GOLDEN["kinds"]["fields"]}
        ),
    ),
    "kinds/counts": Row(
        lambda g: g["kinds"]["counts"],
        lambda: {t: len(of_type(kinds_run().events, t)) for t in GOLDEN["kinds"]["counts"]},
    ),
    "kinds/timestamps_are_epoch_ms": Row(
        lambda g: g["kinds"]["timestamps_are_epoch_ms"], lambda: timestamps_are_epoch_ms(kinds_run())
    ),
    "kinds/event_container_type": Row(
        lambda g: g["kinds"]["event_container_type"], lambda: type(kinds_run().events[0]).__name__
    ),
    "kinds/first_type": Row(lambda g: g["kinds"]["first_type"], lambda: kinds_run().events[0]["_type"]),
    "kinds/last_type": Row(lambda g: g["kinds"]["last_type"], lambda: kinds_run().events[-1]["_type"]),
    "kinds/sink_received": Row(lambda g: g["kinds"]["sink_received"], lambda: kinds_run().sink_received),
    **{
        f"fan_out_and_failure/{key}": Row(
            lambda g, k=key: g["fan_out_and_failure"][k], lambda k=key: fan_out_and_failure()[k]
        )
        for key in ("types_seen", "MessageSent", "sink_packets")
    },
    "fan_out_and_failure/ActorFailed": Row(lambda g: [], lambda: fan_out_and_failure()["ActorFailed"]),
    "late_subscriber": Row(lambda g: g["late_subscriber"], late_subscriber),
    "no_events_without_start": Row(lambda g: g["no_events_without_start"], no_events_without_start),
}
for _name, _message in KINDS:
    ROWS[f"kinds/message_values/{_name}"] = Row(
        lambda g, n=_name: {
            k: v
            for k, v in next(r for r in g["kinds"]["message_values"] if r["kind"] == n).items()
            if k.startswith("Message")
        },
        lambda n=_name: kinds_message_values(n),
    )
for _type in ("ActorStarted", "MessageReceived", "MessageSent", "NetworkStarted", "NetworkShutdown"):
    ROWS[f"kinds/examples/{_type}"] = Row(
        lambda g, t=_type: g["kinds"]["examples"][t], lambda t=_type: kinds_examples()[t]
    )


DEVIATIONS: dict[str, Deviation] = {
    "kinds/message_values/Bytes": Deviation(
        BYTES_SHOWN_AS_LENGTH, result={"MessageReceived.message": "[binary:2]", "MessageSent.message": "[binary:2]"}
    ),
    "kinds/more_event_types": Deviation(
        MORE_EVENT_TYPES, result={t: OUR_EXTRA_TYPES[t] for t in ("ActorStopped", "NetworkIdle", "TickBatch")}
    ),
    "fan_out_and_failure/types_seen": Deviation(
        MORE_EVENT_TYPES, change=lambda g: sorted([*g, "ActorFailed", "ActorStopped", "NetworkIdle", "TickBatch"])
    ),
    "fan_out_and_failure/ActorFailed": Deviation(
        MORE_EVENT_TYPES,
        result=[
            {
                "_type": "ActorFailed",
                "actorId": "src",
                "component": "tpl_src",
                "error": error,
                "message": {"in": {"data": value, "type": "Integer"}},
            }
            for value, error in ((2, "failed on purpose"), (3, "ValueError: raised on purpose"))
        ],
    ),
    "late_subscriber": Deviation(
        f"{FROM_CREATION_ON}; {MORE_EVENT_TYPES}",
        result={"backlog_types": [], "after_shutdown_types": ["ActorStopped", "ActorStopped", "NetworkShutdown"]},
    ),
}

#: Differences that are bugs in the engine (xfail(strict=True) until fixed).
KNOWN_BUGS: dict[str, str] = {}


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def expected_result(row_id: str, golden: Any) -> Any:
    deviation = DEVIATIONS.get(row_id)
    if deviation is None:
        return golden
    return deviation.change(golden) if deviation.change is not None else deviation.result


def marks(row_id: str) -> list[Any]:
    return [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[row_id])] if row_id in KNOWN_BUGS else []


@pytest.mark.parametrize("row_id", [pytest.param(r, id=r, marks=marks(r)) for r in ROWS])
def test_replay(row_id: str) -> None:
    spec = ROWS[row_id]
    assert canonical(spec.ours()) == canonical(expected_result(row_id, spec.golden(GOLDEN)))


def test_every_golden_case_and_kind_is_replayed() -> None:
    assert {row_id.split("/")[0] for row_id in ROWS} == set(GOLDEN)
    assert [k for k, _m in KINDS] == [r["kind"] for r in GOLDEN["kinds"]["message_values"]]
    assert [m for _k, m in KINDS] == [r["message"] for r in GOLDEN["kinds"]["message_values"]]


def test_deviation_tables_name_rows() -> None:
    assert not (set(DEVIATIONS) - set(ROWS)), "stale DEVIATIONS entries"
    assert not (set(KNOWN_BUGS) - set(ROWS)), "stale KNOWN_BUGS entries"
    assert not (set(DEVIATIONS) & set(KNOWN_BUGS))
    for row_id in DEVIATIONS:
        golden = ROWS[row_id].golden(GOLDEN)
        assert canonical(expected_result(row_id, golden)) != canonical(golden), row_id


# -- listed deviations the goldens cannot show --------------------------------------------------


def test_every_subscriber_sees_every_event() -> None:
    """The reference's subscribers compete (each event goes to one of them); ours each get all."""
    run = kinds_run()
    assert run.second_subscriber == run.events


def test_recv_without_timeout_returns_none_once_stopped_and_drained() -> None:
    """The reference's recv() (timeout_ms=0) blocks forever; ours returns None after the run ends."""
    assert kinds_run().recv_after_drain is None


def test_our_extra_event_types_have_the_documented_fields() -> None:
    failed = fan_out_and_failure()["ActorFailed"]
    assert failed and all(set(e) | {"timestamp"} == set(OUR_EXTRA_TYPES["ActorFailed"]) for e in failed)
    fields = field_types(kinds_run().events)
    assert {t: fields[t] for t in ("ActorStopped", "NetworkIdle")} == {
        t: OUR_EXTRA_TYPES[t] for t in ("ActorStopped", "NetworkIdle")
    }
