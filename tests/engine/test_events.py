"""The event stream: broadcast, field names, bounded buffers, lossless mode, polling."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import jsonschema
import pytest
import trio

from reflow_cli import Message, Network
from tests.actors import Collect, Forward

SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "event.schema.json").read_text())


def small_network(count: int = 3) -> Network:
    net = Network()
    net.register_actor("fwd", Forward())
    net.register_actor("col", Collect())
    net.add_node("f", "fwd")
    net.add_node("c", "col")
    net.add_connection("f", "out", "c", "in")
    for i in range(count):
        net.add_initial("f", "in", Message.integer(i))
    return net


def test_every_subscriber_sees_every_event() -> None:
    net = small_network()
    first, second = net.events(), net.events()
    assert net.run(timeout=5)
    a = list(first)
    b = list(second)
    assert a == b
    assert [e["_type"] for e in a].count("MessageSent") == 3


def test_event_fields_match_the_reference_names() -> None:
    net = small_network(1)
    net.add_initial("f", "in", Message.bytes(b"abc"))
    events = net.events()
    assert net.run(timeout=5)
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["_type"], []).append(event)
    assert set(by_type["NetworkStarted"][0]) == {"_type", "timestamp"}
    assert {e["actorId"] for e in by_type["ActorStarted"]} == {"f", "c"}
    assert set(by_type["ActorStarted"][0]) == {"_type", "actorId", "component", "timestamp"}
    received = by_type["MessageReceived"]  # IIPs only, as in the reference
    assert [e["message"] for e in received] == [0, "[binary:3]"]
    assert set(received[0]) == {"_type", "actorId", "port", "message", "timestamp"}
    sent = by_type["MessageSent"]
    assert set(sent[0]) == {"_type", "fromActor", "fromPort", "toActor", "toPort", "message", "timestamp"}
    assert [(e["fromActor"], e["fromPort"], e["toActor"], e["toPort"], e["message"]) for e in sent] == [
        ("f", "out", "c", "in", 0),
        ("f", "out", "c", "in", "[binary:3]"),
    ]
    assert "NetworkIdle" in by_type and "NetworkShutdown" in by_type
    assert {e["actorId"] for e in by_type["ActorStopped"]} == {"f", "c"}
    assert isinstance(sent[0]["timestamp"], int) and sent[0]["timestamp"] > 1_600_000_000_000


def test_every_event_validates_against_the_schema() -> None:
    net = small_network(2)
    net.add_initial("f", "in", Message.flow())
    events = net.events()
    assert net.run(timeout=5)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    seen = list(events)
    assert seen
    for event in seen:
        validator.validate(event)
    validator.validate({"_type": "EventsDropped", "count": 3, "timestamp": 1})
    validator.validate({"_type": "NetworkStalled", "ports": ["a.in (1 waiting)"], "edges": [], "timestamp": 1})
    validator.validate(
        {"_type": "ActorFailed", "actorId": "a", "component": "x", "error": "e",
         "message": {"in": {"type": "Flow"}}, "timestamp": 1}
    )


def test_a_full_buffer_drops_the_oldest_and_says_how_many() -> None:
    net = small_network(50)
    events = net.events(buffer=10)
    assert net.run(timeout=5)
    first = events.recv(0)
    assert first is not None and first["_type"] == "EventsDropped" and first["count"] > 0
    rest = list(events)
    assert len(rest) == 10
    assert rest[-1]["_type"] == "NetworkShutdown"


def test_lossless_stream_slows_the_network_instead_of_dropping() -> None:
    net = small_network(300)
    events = net.events(lossless=True, buffer=8)
    seen: list[dict] = []

    def drain() -> None:
        for event in events:
            seen.append(event)

    reader = threading.Thread(target=drain)
    reader.start()
    assert net.run(timeout=20)
    reader.join(10)
    assert not reader.is_alive()
    assert not [e for e in seen if e["_type"] == "EventsDropped"]
    assert sum(e["_type"] == "MessageSent" for e in seen) == 300


def test_recv_polls_times_out_and_returns_after_stop() -> None:
    net = small_network(1)
    events = net.events()
    assert events.recv(0) is None  # nothing yet
    assert events.recv(10) is None  # waits 10 ms at most
    net.run(timeout=5)
    assert events.recv(None)["_type"] == "NetworkStarted"
    list(events)
    assert events.recv(None) is None  # stopped and drained: no blocking forever


def test_no_subscriber_buffers_nothing() -> None:
    net = small_network(100)
    assert net.run(timeout=5)
    late = net.events()
    assert late.recv(0) is None


def test_async_iteration_inside_trio() -> None:
    net = small_network(2)
    events = net.events()

    async def main() -> list[str]:
        status = await net.run_async(timeout=5)
        assert status
        return [event["_type"] async for event in events]

    types = trio.run(main)
    assert types[0] == "NetworkStarted" and types.count("MessageSent") == 2


def test_closed_stream_gets_nothing_more() -> None:
    net = small_network(2)
    events = net.events()
    events.close()
    assert net.run(timeout=5)
    assert events.recv(0) is None


def test_bad_buffer_size_is_refused() -> None:
    with pytest.raises(ValueError):
        Network().events(buffer=0)
