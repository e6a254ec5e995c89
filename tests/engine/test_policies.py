"""Error policies: fail, skip/continue, dead_letter, retry; every failure is an ActorFailed event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reflow_cli import Actor, Message, Network, RunState
from reflow_cli.errors import ConfigError
from tests.actors import Collect


class FailsOnOdd(Actor):
    """Fails (raises) on odd integers, forwards even ones."""

    inports = ["in"]
    outports = ["out", "error"]

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["in"]["data"]
        if n % 2:
            raise ValueError(f"odd {n}")
        ctx.done({"out": ctx.inputs["in"]})


class Flaky(Actor):
    """Fails the first `failures` attempts for each input, then succeeds."""

    inports = ["in"]
    outports = ["out"]

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: dict[int, int] = {}

    def run(self, ctx: Any) -> None:
        n = ctx.inputs["in"]["data"]
        self.attempts[n] = self.attempts.get(n, 0) + 1
        if self.attempts[n] <= self.failures:
            ctx.fail(f"flaky on {n} (attempt {self.attempts[n]})")
            return
        ctx.done({"out": ctx.inputs["in"]})


def network(actor: Any, count: int = 10, wire_error: bool = False, **node: Any) -> tuple[Network, Collect, Collect]:
    net = Network(**node.pop("network", {}))
    out, errors = Collect(), Collect()
    net.register_actor("worker", actor)
    net.register_actor("out", out)
    net.register_actor("errors", errors)
    net.add_node("w", "worker", **node)
    net.add_node("o", "out")
    net.add_connection("w", "out", "o", "in")
    if wire_error:
        net.add_node("e", "errors")
        net.add_connection("w", "error", "e", "in")
    for i in range(count):
        net.add_initial("w", "in", Message.integer(i))
    return net, out, errors


def failures(events: Any) -> list[dict[str, Any]]:
    return [e for e in events if e["_type"] == "ActorFailed"]


def test_fail_stops_the_run_at_the_first_failure() -> None:
    net, out, _ = network(FailsOnOdd(), on_error="fail")
    events = net.events()
    status = net.run(timeout=10)
    assert status == RunState.FAILED
    assert status.failure is not None and status.failure.error == "ValueError: odd 1"
    assert len(failures(events)) == 1
    stats = net.stats()
    assert stats.nodes["w"].ticks == 2  # 0 done, 1 failed; 2..9 never started
    assert stats.undelivered >= 8  # and are reported, not lost silently


@pytest.mark.parametrize("policy", ["skip", "continue"])
def test_skip_goes_on_and_counts(policy: str) -> None:
    net, out, _ = network(FailsOnOdd(), on_error=policy)
    events = net.events()
    assert net.run(timeout=10)
    assert out.items == [0, 2, 4, 6, 8]
    stats = net.stats().nodes["w"]
    assert (stats.ticks, stats.skipped, stats.dead_lettered, stats.ok) == (10, 5, 0, 5)
    assert [e["error"] for e in failures(events)] == [f"ValueError: odd {n}" for n in (1, 3, 5, 7, 9)]


class AsyncFailsOnOdd(FailsOnOdd):
    async def run(self, ctx: Any) -> None:  # type: ignore[override]
        FailsOnOdd.run(self, ctx)


class ThreadedFailsOnOdd(FailsOnOdd):
    threaded = True


@pytest.mark.parametrize("actor", [FailsOnOdd, AsyncFailsOnOdd, ThreadedFailsOnOdd], ids=["sync", "async", "threaded"])
def test_a_raising_tick_counts_as_a_tick_in_every_actor_kind(actor: type[Actor]) -> None:
    net, out, _ = network(actor(), on_error="skip")
    assert net.run(timeout=10)
    assert out.items == [0, 2, 4, 6, 8]
    stats = net.stats().nodes["w"]
    assert stats.ticks == stats.ok + stats.skipped + stats.dead_lettered == 10


def test_dead_letter_goes_to_a_connected_error_port() -> None:
    net, out, errors = network(FailsOnOdd(), wire_error=True, on_error="dead_letter")
    events = net.events()
    assert net.run(timeout=10)
    assert out.items == [0, 2, 4, 6, 8]
    assert [letter["message"] for letter in errors.items] == [{"in": {"data": n, "type": "Integer"}} for n in (1, 3, 5, 7, 9)]
    assert {letter["error"] for letter in errors.items} == {f"ValueError: odd {n}" for n in (1, 3, 5, 7, 9)}
    assert errors.items[0]["node"] == "w"
    stats = net.stats().nodes["w"]
    assert stats.ticks == stats.ok + stats.skipped + stats.dead_lettered == 10
    assert stats.dead_lettered == 5
    assert len(failures(events)) == 5  # an event for every failure, whatever the policy


def test_dead_letter_goes_to_a_file_without_an_error_port(tmp_path: Path) -> None:
    letters = tmp_path / "letters" / "dead.jsonl"
    net, out, _ = network(FailsOnOdd(), on_error="dead_letter", network={"dead_letter_path": str(letters)})
    assert net.run(timeout=10)
    records = [json.loads(line) for line in letters.read_text().splitlines()]
    assert [r["message"] for r in records] == [{"in": {"data": n, "type": "Integer"}} for n in (1, 3, 5, 7, 9)]
    assert all(r["node"] == "w" and r["error"].startswith("ValueError: odd") for r in records)
    assert net.stats().dead_letter_file == str(letters)


def test_retry_succeeds_on_a_flaky_component() -> None:
    flaky = Flaky(failures=2)
    net, out, _ = network(flaky, count=5, on_error="retry", retry={"count": 3, "backoff": 0})
    events = net.events()
    assert net.run(timeout=10)
    assert out.items == [0, 1, 2, 3, 4]
    stats = net.stats().nodes["w"]
    assert (stats.ticks, stats.ok, stats.retries, stats.failures) == (5, 5, 10, 10)
    assert all(count == 3 for count in flaky.attempts.values())
    texts = [e["error"] for e in failures(events)]
    assert texts[:2] == ["flaky on 0 (attempt 1)", "flaky on 0 (attempt 2) (retry 1 of 3)"]


def test_retry_gives_up_then_applies_its_then_policy() -> None:
    net, out, _ = network(Flaky(failures=10), count=3, on_error="retry", retry={"count": 2, "backoff": 0.001, "then": "skip"})
    assert net.run(timeout=10)
    assert out.items == []
    stats = net.stats().nodes["w"]
    assert (stats.ticks, stats.skipped, stats.retries, stats.failures) == (3, 3, 6, 9)
    net, _, _ = network(Flaky(failures=10), count=3, on_error="retry", retry={"count": 1, "backoff": 0})
    assert net.run(timeout=10) == RunState.FAILED  # then: fail by default


def test_retry_of_an_async_actor() -> None:
    class AsyncFlaky(Flaky):
        async def run(self, ctx: Any) -> None:  # type: ignore[override]
            Flaky.run(self, ctx)

    net, out, _ = network(AsyncFlaky(failures=1), count=3, on_error="retry", retry={"count": 2, "backoff": 0})
    assert net.run(timeout=10)
    assert out.items == [0, 1, 2]


def test_bad_policies_are_refused_when_the_node_is_added() -> None:
    net = Network()
    net.register_actor("worker", FailsOnOdd())
    with pytest.raises(ConfigError, match="unknown error policy 'explode'"):
        net.add_node("a", "worker", on_error="explode")
    with pytest.raises(ConfigError, match="retry.count"):
        net.add_node("b", "worker", on_error="retry", retry={"count": 0})
    with pytest.raises(ConfigError, match="unknown retry setting"):
        net.add_node("c", "worker", on_error="retry", retry={"tries": 3})
    with pytest.raises(ValueError, match="unknown error policy"):
        Network(on_error="explode")
