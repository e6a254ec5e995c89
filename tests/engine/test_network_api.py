"""The Network API: building, errors that name the problem, lifecycle."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from reflow_cli import Actor, Message, Network, RunState
from reflow_cli.errors import (
    ComponentTypeError,
    ConfigError,
    ContextArgumentError,
    ContextError,
    GraphError,
    MessageFormatError,
    NetworkStateError,
    PortError,
    RegistryError,
    UnknownComponentError,
    UnresolvedComponentsError,
)
from reflow_cli.graph import Graph
from tests.actors import AddOne, Collect, Forward

QUICK_START = textwrap.dedent(
    """
    from reflow_cli import Actor, Network, Message

    class Doubler(Actor):
        component = "doubler"
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):
            n = ctx.inputs["in"]["data"]
            ctx.done({"out": Message.integer(n * 2)})

    class Log(Actor):
        component = "log"
        inports = ["in"]
        outports = []

        def run(self, ctx):
            print("got:", ctx.inputs["in"])
            ctx.done()

    net = Network()
    net.register_actor("tpl_doubler", Doubler())
    net.register_actor("tpl_log", Log())

    net.add_node("a", "tpl_doubler")
    net.add_node("b", "tpl_log")
    net.add_connection("a", "out", "b", "in")
    net.add_initial("a", "in", {"type": "Integer", "data": 21})

    net.start()
    # ... later:
    net.shutdown()
    """
)


def test_quick_start_prints_once_in_a_subprocess() -> None:
    # The seed README's Quick start, unchanged but for the import: shutdown() right after
    # start() still lets the in-flight packet through (grace), so it prints exactly once.
    result = subprocess.run([sys.executable, "-c", QUICK_START], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "got: {'data': 42, 'type': 'Integer'}\n"


def test_quick_start_many_times_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    for _ in range(100):
        exec(compile(QUICK_START, "<quick start>", "exec"), {})
    out = capsys.readouterr().out
    assert out == "got: {'data': 42, 'type': 'Integer'}\n" * 100


def _pair(net: Network, collect: Collect | None = None) -> Collect:
    collect = collect or Collect()
    net.register_actor("fwd", Forward())
    net.register_actor("col", collect)
    net.add_node("f", "fwd")
    net.add_node("c", "col")
    net.add_connection("f", "out", "c", "in")
    return collect


def test_unknown_template_names_it_with_a_hint() -> None:
    net = Network()
    net.register_actor("tpl_forward", Forward())
    with pytest.raises(UnknownComponentError, match="tpl_forwrd") as info:
        net.add_node("a", "tpl_forwrd")
    assert "did you mean 'tpl_forward'" in str(info.value)
    assert isinstance(info.value, RuntimeError)  # the reference raised RuntimeError here


def test_unknown_port_is_refused_with_a_hint() -> None:
    net = Network()
    _pair(net)
    with pytest.raises(PortError, match="did you mean 'out'") as info:
        net.add_connection("f", "outt", "c", "in")
    assert "has no outport 'outt'" in str(info.value)
    with pytest.raises(PortError, match="has no inport 'inn'"):
        net.add_connection("f", "out", "c", "inn")
    with pytest.raises(PortError, match="has no inport"):
        net.add_initial("f", "nope", Message.integer(1))


def test_connection_to_a_missing_node_is_refused() -> None:
    net = Network()
    _pair(net)
    with pytest.raises(GraphError, match="'ghost'"):
        net.add_connection("f", "out", "ghost", "in")
    with pytest.raises(GraphError, match="did you mean 'c'"):
        net.add_connection("f", "out", "cc", "in")
    with pytest.raises(GraphError, match="'ghost'"):
        net.add_initial("ghost", "in", Message.integer(1))


def test_duplicate_node_and_registration_are_errors() -> None:
    net = Network()
    _pair(net)
    with pytest.raises(GraphError, match="already exists"):
        net.add_node("f", "fwd")
    with pytest.raises(RegistryError, match="already registered"):
        net.register_actor("fwd", Forward())
    with pytest.raises(ComponentTypeError):
        net.register_actor("x", 42)


def test_bad_config_and_bad_iip_are_errors() -> None:
    net = Network()
    net.register_actor("fwd", Forward())
    with pytest.raises(ConfigError, match="must be a dict"):
        net.add_node("a", "fwd", [1, 2])  # type: ignore[arg-type]
    net.add_node("a", "fwd")
    with pytest.raises(MessageFormatError, match="unknown variant"):
        net.add_initial("a", "in", {"type": "Nope", "data": 1})
    with pytest.raises(ValueError):
        net.add_connection("a", "out", "a", "in", capacity=0)


def test_iips_accept_messages_and_tagged_dicts() -> None:
    net = Network()
    collect = _pair(net)
    net.add_initial("f", "in", Message.integer(1))
    net.add_initial("f", "in", {"type": "String", "data": "two"})
    assert net.run(timeout=5)
    assert collect.items == [1, "two"]


def test_start_twice_raises_and_restart_after_shutdown_runs_again() -> None:
    net = Network()
    collect = _pair(net)
    net.add_initial("f", "in", Message.integer(7))
    net.start()
    with pytest.raises(NetworkStateError, match="already running"):
        net.start()
    assert net.wait(5)
    net.shutdown()
    net.shutdown()  # harmless
    assert net.run(timeout=5)  # a fresh run re-delivers the IIPs
    assert collect.items == [7, 7]


def test_wait_before_start_is_an_error() -> None:
    with pytest.raises(NetworkStateError, match="not been started"):
        Network().wait(0.1)


def test_wait_times_out_while_work_goes_on() -> None:
    class Sleeper(Actor):
        inports = ["in"]
        outports: list[str] = []

        async def run(self, ctx):  # type: ignore[no-untyped-def]
            import trio

            await trio.sleep(0.5)

    net = Network()
    net.register_actor("sleep", Sleeper())
    net.add_node("s", "sleep")
    net.add_initial("s", "in", Message.flow())
    net.start()
    status = net.wait(0.05)
    assert status == RunState.TIMEOUT and not status
    assert net.wait(5) == RunState.COMPLETE
    net.shutdown()


def test_iip_added_while_running_is_delivered_and_wait_sees_it() -> None:
    net = Network()
    collect = _pair(net)
    net.add_initial("f", "in", Message.integer(1))
    net.start()
    assert net.wait(5)
    net.add_initial("f", "in", Message.integer(2))
    assert net.wait(5)
    net.shutdown()
    assert collect.items == [1, 2]


def test_done_twice_and_bad_done_arguments_fail_the_tick() -> None:
    errors: list[BaseException] = []

    class Misuse(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            case = ctx.inputs["in"]["data"]
            try:
                if case == "twice":
                    ctx.done()
                    ctx.done()
                elif case == "fail_after_done":
                    ctx.done()
                    ctx.fail("late")
                elif case == "non_dict":
                    ctx.done(5)
                elif case == "raw_value":
                    ctx.done({"out": 5})
                elif case == "send_non_dict":
                    ctx.send([1])
                elif case == "unknown_port":
                    ctx.done({"nope": Message.integer(1)})
            except Exception as exc:  # noqa: BLE001 - recorded for the assertions below
                errors.append(exc)
                raise

    net = Network()
    net.register_actor("m", Misuse())
    net.add_node("m", "m")
    cases = ["twice", "fail_after_done", "non_dict", "raw_value", "send_non_dict", "unknown_port"]
    for case in cases:
        net.add_initial("m", "in", Message.string(case))
    events = net.events()
    net.run(timeout=5)
    kinds = [type(e) for e in errors]
    assert kinds == [ContextError, ContextError, ContextArgumentError, ContextArgumentError, ContextArgumentError, PortError]
    assert "already resolved" in str(errors[0])
    assert "expects a dict keyed by port" in str(errors[2])
    assert isinstance(errors[2], ValueError) and isinstance(errors[0], RuntimeError)
    failed = [e for e in events if e["_type"] == "ActorFailed"]
    # the four ticks that raised before resolving fail; "twice"/"fail_after_done" raise after done()
    assert len(failed) == len(cases)
    assert {f["actorId"] for f in failed} == {"m"}


def test_unresolved_components_are_all_reported_at_start() -> None:
    graph = Graph("g", True)
    graph.add_node("a", "tpl_missing_one")
    graph.add_node("b", "tpl_missing_two")
    graph.add_node("c", "fwd")
    net = Network.from_graph(graph)
    net.register_actor("fwd", Forward())
    with pytest.raises(UnresolvedComponentsError) as info:
        net.start()
    assert info.value.missing == {"a": "tpl_missing_one", "b": "tpl_missing_two"}
    assert not net.is_running


def test_from_graph_uses_metadata_as_config() -> None:
    class Configured(Actor):
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):  # type: ignore[no-untyped-def]
            ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * ctx.config["factor"])})

    graph = Graph("g", True)
    graph.add_node("m", "mul", {"factor": 3})
    graph.add_node("c", "col")
    graph.add_connection("m", "out", "c", "in")
    graph.add_initial("m", "in", {"type": "Integer", "data": 5})
    net = Network.from_graph(graph)
    collect = Collect()
    net.register_actor("mul", Configured)
    net.register_actor("col", collect)
    assert net.run(timeout=5)
    assert collect.items == [15]


def test_network_graph_exports_what_was_built() -> None:
    net = Network()
    _pair(net)
    net.add_initial("f", "in", Message.integer(1))
    export = net.graph.to_json()
    assert set(export["processes"]) == {"f", "c"}
    assert any(c["data"] == {"data": 1, "type": "Integer"} for c in export["connections"])


def test_shutdown_lets_in_flight_work_finish_within_grace() -> None:
    class Slow(Actor):
        inports = ["in"]
        outports = ["out"]

        async def run(self, ctx):  # type: ignore[no-untyped-def]
            import trio

            await trio.sleep(0.05)
            ctx.done({"out": ctx.inputs["in"]})

    net = Network()
    collect = Collect()
    net.register_actor("slow", Slow())
    net.register_actor("col", collect)
    net.add_node("s", "slow")
    net.add_node("c", "col")
    net.add_connection("s", "out", "c", "in")
    for i in range(3):
        net.add_initial("s", "in", Message.integer(i))
    net.start()
    started = time.perf_counter()
    stats = net.shutdown(grace=5)
    assert time.perf_counter() - started < 2
    assert collect.items == [0, 1, 2]
    assert stats.undelivered == 0


def test_run_returns_a_complete_status_and_stats_after() -> None:
    net = Network()
    net.register_actor("add", AddOne())
    collect = Collect()
    net.register_actor("col", collect)
    net.add_node("a", "add")
    net.add_node("c", "col")
    net.add_connection("a", "out", "c", "in", capacity=8)
    for i in range(100):
        net.add_initial("a", "in", Message.integer(i))
    status = net.run(timeout=5)
    assert status and status == RunState.COMPLETE
    stats = net.stats()
    assert stats.nodes["a"].ticks == 100
    assert stats.inports["c.in"].capacity == 8
    assert stats.inports["c.in"].received == 100
    assert stats.inports["c.in"].high_water <= 8
    assert stats.edges["a.out -> c.in"].sent == 100
    assert collect.items == list(range(1, 101))


def test_conflicting_capacities_into_one_inport_are_an_error() -> None:
    net = Network()
    net.register_actor("fwd", Forward())
    net.add_node("a", "fwd")
    net.add_node("b", "fwd")
    net.add_node("c", "fwd")
    net.add_connection("a", "out", "c", "in", capacity=4)
    net.add_connection("b", "out", "c", "in", capacity=8)
    with pytest.raises(ValueError, match="conflicting capacities"):
        net.start()


def test_network_config_is_accepted_and_ignored() -> None:
    Network(None)
    Network({"compression": {"enabled": False}})
    with pytest.raises(ConfigError):
        Network("fast")  # type: ignore[arg-type]


def test_atexit_hook_stops_a_running_network() -> None:
    script = textwrap.dedent(
        """
        from reflow_cli import Actor, Network, Message

        class Loop(Actor):
            inports = ["tick"]
            outports = ["tick"]
            def run(self, ctx):
                ctx.done({"tick": ctx.inputs["tick"]})

        net = Network()
        net.register_actor("loop", Loop())
        net.add_node("l", "loop")
        net.add_connection("l", "tick", "l", "tick")
        net.add_initial("l", "tick", Message.flow())
        net.start()
        print("started")
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"
