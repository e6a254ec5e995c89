"""Network events (net.events()): event types, their fields and JSON types, and the
``message`` field's value per message kind in MessageReceived (IIPs) and MessageSent
(packets over connections).  Timestamps are recorded by type only (plus a check that
they are Unix epoch milliseconds)."""

from __future__ import annotations

import time
from typing import Any

from _harness import case, encode, json_type
from _net import Recorder, make_actor, sink_actor, wait_until
from offbit_reflow import Message, Network

GOLDEN = "events.json"
ISOLATE = True
ABOUT = __doc__

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


def drain(stream: Any, quiet_ms: int = 300) -> list[dict[str, Any]]:
    events = []
    while True:
        event = stream.recv(quiet_ms)
        if event is None:
            return events
        events.append(event)


def field_types(events: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, dict[str, set[str]]] = {}
    for event in events:
        fields = out.setdefault(event.get("_type", "<no _type>"), {})
        for key, value in event.items():
            fields.setdefault(key, set()).add(json_type(value))
    return {t: {k: sorted(v) for k, v in sorted(f.items())} for t, f in sorted(out.items())}


def timestamps_are_epoch_ms(events: list[dict[str, Any]], t0: float, t1: float) -> bool:
    stamps = [e["timestamp"] for e in events if "timestamp" in e]
    return bool(stamps) and all(
        isinstance(s, int) and t0 * 1000 - 2000 <= s <= t1 * 1000 + 2000 for s in stamps
    )


def collapse(types: list[str]) -> list[str]:
    out: list[str] = []
    for t in types:
        if not out or out[-1] != t:
            out.append(t)
    return out


def strip_timestamp(event: dict[str, Any]) -> dict[str, Any]:
    return {k: encode(v) for k, v in event.items() if k != "timestamp"}


@case("kinds", timeout=30)
def kinds() -> Any:
    """src (Python) gets one IIP per kind on 'in' and forwards it on 'out' to sink."""
    got = Recorder()

    def forward(ctx: Any) -> None:
        ctx.done({"out": Message.from_json(ctx.inputs["in"])})

    net = Network()
    net.register_actor("tpl_src", make_actor(forward, component="src"))
    net.register_actor("tpl_sink", sink_actor(got))
    net.add_node("src", "tpl_src")
    net.add_node("sink", "tpl_sink")
    net.add_connection("src", "out", "sink", "in")
    for _name, message in KINDS:
        net.add_initial("src", "in", message)
    stream = net.events()
    t0 = time.time()
    net.start()
    wait_until(lambda: len(got) >= len(KINDS))
    time.sleep(0.2)
    events = drain(stream)
    net.shutdown()
    events += drain(stream)
    t1 = time.time()

    received = [e for e in events if e.get("_type") == "MessageReceived"]
    sent = [e for e in events if e.get("_type") == "MessageSent"]
    table = []
    for index, (name, message) in enumerate(KINDS):
        table.append(
            {
                "kind": name,
                "message": message,
                "MessageReceived.message": encode(received[index]["message"]) if index < len(received) else "<missing>",
                "MessageSent.message": encode(sent[index]["message"]) if index < len(sent) else "<missing>",
            }
        )
    return {
        "fields": field_types(events),
        "counts": {t: sum(1 for e in events if e.get("_type") == t) for t in sorted({e.get("_type") for e in events})},
        "timestamps_are_epoch_ms": timestamps_are_epoch_ms(events, t0, t1),
        "message_values": table,
        "examples": {
            "ActorStarted": sorted(
                (strip_timestamp(e) for e in events if e.get("_type") == "ActorStarted"), key=lambda e: e["actorId"]
            ),
            "MessageReceived": strip_timestamp(received[0]) if received else None,
            "MessageSent": strip_timestamp(sent[0]) if sent else None,
            "NetworkStarted": [strip_timestamp(e) for e in events if e.get("_type") == "NetworkStarted"],
            "NetworkShutdown": [strip_timestamp(e) for e in events if e.get("_type") == "NetworkShutdown"],
        },
        "first_type": events[0].get("_type") if events else None,
        "last_type": events[-1].get("_type") if events else None,
        "sink_received": len(got),
        "event_container_type": type(events[0]).__name__ if events else None,
    }


@case("fan_out_and_failure", timeout=30)
def fan_out_and_failure() -> Any:
    """src gets IIPs Integer 1 (-> done to 'out', wired to sink1.in and sink2.in), then
    Integer 2 (-> ctx.fail) and Integer 3 (-> raises): which events appear."""
    got = Recorder()

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
    net.start()
    wait_until(lambda: len(got) >= 2)
    time.sleep(0.3)
    events = drain(stream)
    net.shutdown()
    events += drain(stream)
    sent = [strip_timestamp(e) for e in events if e.get("_type") == "MessageSent"]
    return {
        "types_seen": sorted({e.get("_type") for e in events}),
        "MessageSent": sorted(sent, key=lambda e: e["toActor"]),
        "sink_packets": len(got),
    }


@case("late_subscriber", timeout=30)
def late_subscriber() -> Any:
    """events() called only after start() (and after the IIP was processed)."""
    got = Recorder()
    net = Network()
    net.register_actor("tpl_src", make_actor(lambda ctx: ctx.done({"out": Message.integer(1)}), component="src"))
    net.register_actor("tpl_sink", sink_actor(got))
    net.add_node("src", "tpl_src")
    net.add_node("sink", "tpl_sink")
    net.add_connection("src", "out", "sink", "in")
    net.add_initial("src", "in", {"type": "Flow"})
    net.start()
    wait_until(lambda: len(got) >= 1)
    time.sleep(0.2)
    stream = net.events()
    events = drain(stream)
    net.shutdown()
    after = drain(stream)
    return {
        "backlog_types": sorted(e.get("_type") for e in events),
        "after_shutdown_types": sorted(e.get("_type") for e in after),
    }


@case("no_events_without_start", timeout=30)
def no_events_without_start() -> Any:
    """A network that is never started, then shut down."""
    net = Network()
    stream = net.events()
    before = drain(stream, 200)
    net.shutdown()
    after = drain(stream, 200)
    return {"before_shutdown": [e.get("_type") for e in before], "after_shutdown": [e.get("_type") for e in after]}
