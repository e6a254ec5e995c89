"""Miscellaneous API facts: registration and lookup errors, packs, NetworkConfig, the
event stream's recv default, signatures of the public callables."""

from __future__ import annotations

import threading
from typing import Any, Callable

from _harness import case, describe_exc, encode, note
from _net import make_actor
import offbit_reflow
from offbit_reflow import Actor, Graph, Message, Network, template_actor

GOLDEN = "misc.json"
ISOLATE = True
ABOUT = __doc__


def err(fn: Callable[[], Any]) -> Any:
    try:
        value = fn()
    except BaseException as exc:  # noqa: BLE001
        return {"error": describe_exc(exc)}
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return {"returned": encode(value)}
    return {"returned_type": type(value).__name__}


class Noop(Actor):
    component = "noop"
    inports = ["in"]
    outports = ["out"]

    def run(self, ctx: Any) -> None:
        ctx.done()


@case("registration")
def registration() -> Any:
    net = Network()
    out = {
        "register_python_actor": err(lambda: net.register_actor("tpl_s", Noop())),
        "register_same_id_again": err(lambda: net.register_actor("tpl_s", Noop())),
        "register_template_actor": err(lambda: net.register_actor("tpl_p", template_actor("tpl_passthrough"))),
        "register_template_same_id_again": err(lambda: net.register_actor("tpl_p", template_actor("tpl_passthrough"))),
        "register_non_actor": err(lambda: net.register_actor("tpl_x", object())),
        "register_actor_class_not_instance": err(lambda: net.register_actor("tpl_c", Noop)),
        "register_non_str_id": err(lambda: net.register_actor(5, Noop())),
        "add_node_unknown_template": err(lambda: net.add_node("n", "tpl_unknown")),
        "add_node": err(lambda: net.add_node("n1", "tpl_s")),
        "add_node_duplicate_id": err(lambda: net.add_node("n1", "tpl_p")),
        "add_initial_message_object": err(lambda: net.add_initial("n1", "in", Message.integer(1))),
        "add_initial_raw_int": err(lambda: net.add_initial("n1", "in", 5)),
        "add_initial_bad_tag": err(lambda: net.add_initial("n1", "in", {"type": "Nope"})),
        "add_initial_tagged": err(lambda: net.add_initial("n1", "in", {"type": "Integer", "data": 1})),
        "add_connection_unknown_nodes": err(lambda: net.add_connection("ghost", "out", "n1", "in")),
    }
    return out


@case("templates_lookup")
def templates_lookup() -> Any:
    return {
        "template_actor_unknown": err(lambda: template_actor("nope")),
        "template_actor_non_str": err(lambda: template_actor(5)),
        "template_actor_known": err(lambda: template_actor("tpl_passthrough")),
        "native_actor_members": sorted(m for m in dir(offbit_reflow._native.Actor) if not m.startswith("_")),
        "from_callback_signature": offbit_reflow._native.Actor.from_callback.__text_signature__,
    }


@case("packs")
def packs() -> Any:
    return {
        "pack_abi_version": offbit_reflow.pack_abi_version(),
        "list_packs": encode(offbit_reflow.list_packs()),
        "inspect_missing": err(lambda: offbit_reflow.inspect_pack("/nonexistent/probe.rflpack")),
        "load_missing": err(lambda: offbit_reflow.load_pack("/nonexistent/probe.rflpack")),
        "list_packs_after_failed_load": encode(offbit_reflow.list_packs()),
    }


FULL_CONFIG = {
    "compression": {"enabled": False},
    "tracing": {
        "server_url": "ws://127.0.0.1:1",
        "batch_size": 10,
        "batch_timeout": {"secs": 1, "nanos": 0},
        "enable_compression": False,
        "retry_config": {
            "max_retries": 1,
            "initial_delay": {"secs": 0, "nanos": 1000},
            "max_delay": {"secs": 1, "nanos": 0},
            "backoff_multiplier": 2.0,
        },
        "enabled": False,
    },
}


@case("network_config")
def network_config() -> Any:
    return {
        "Network()": err(lambda: Network()),
        "Network(config=None)": err(lambda: Network(config=None)),
        "Network({})": err(lambda: Network({})),
        "Network({'compression': {'enabled': False}})": err(lambda: Network({"compression": {"enabled": False}})),
        "Network(full config, tracing disabled)": err(lambda: Network(FULL_CONFIG)),
        "Network(5)": err(lambda: Network(5)),
        "Network('x')": err(lambda: Network("x")),
        "full_config_used": FULL_CONFIG,
    }


@case("event_stream_recv", timeout=30)
def event_stream_recv() -> Any:
    net = Network()
    stream = net.events()
    out: dict[str, Any] = {
        "events_type": type(stream).__name__,
        "recv_signature": type(stream).recv.__text_signature__,
        "recv_10ms_before_start": err(lambda: stream.recv(10)),
        "recv_timeout_ms_kw": err(lambda: stream.recv(timeout_ms=10)),
    }
    box: list[Any] = []

    def blocking() -> None:
        box.append(stream.recv())

    thread = threading.Thread(target=blocking, daemon=True)
    thread.start()
    thread.join(1.5)
    out["recv_default_blocks_for_1_5s"] = thread.is_alive()
    out["recv_default_returned"] = encode(box[0]) if box else None
    return out


@case("signatures")
def signatures() -> Any:
    def sig(obj: Any) -> Any:
        return getattr(obj, "__text_signature__", None)

    network = {name: sig(getattr(Network, name)) for name in dir(Network) if not name.startswith("_")}
    return {
        "version": offbit_reflow.__version__,
        "module_all": sorted(offbit_reflow.__all__),
        "native_all": sorted(getattr(offbit_reflow._native, "__all__", [])),
        "Network_members": network,
        "Network_text_signature": sig(offbit_reflow._native.Network),
        "Graph_text_signature": sig(Graph),
        "Message_members": sorted(m for m in dir(Message) if not m.startswith("_")),
        "Message()": err(lambda: Message()),
        "Message_repr_pattern": describe_exc(Exception(repr(Message.integer(1))))["text"],
        "Message_eq_same_value": Message.integer(1) == Message.integer(1),
        "Message_hashable": err(lambda: isinstance(hash(Message.integer(1)), int)),
        "Message_kind_is_property": isinstance(type(Message.integer(1)).__dict__.get("kind"), property)
        or type(type(Message.integer(1)).__dict__.get("kind")).__name__,
        "template_list_signature": sig(offbit_reflow.template_list),
        "template_actor_signature": sig(offbit_reflow.template_actor),
        "compose_graphs_signature": sig(offbit_reflow.compose_graphs),
        "python_Actor_defaults": {
            "component": Actor.component,
            "inports": Actor.inports,
            "outports": Actor.outports,
            "await_all_inports": Actor.await_all_inports,
        },
        "Actor_run_not_implemented": err(lambda: Actor().run(None)),
    }


@case("from_graph_aborts", timeout=30)
def from_graph_aborts() -> Any:
    """Network.from_graph(Graph()) (anchor: always aborts)."""
    note("Network.from_graph(Graph('empty'))")
    return err(lambda: Network.from_graph(Graph("empty")))


@case("start_with_unknown_connection_node", timeout=30)
def start_with_unknown_connection_node() -> Any:
    """add_connection to an unknown node is accepted; start() then (anchor) aborts."""
    net = Network()
    net.register_actor("tpl_s", make_actor(lambda ctx: ctx.done()))
    net.add_node("a", "tpl_s")
    net.add_connection("a", "out", "ghost", "in")
    note("net.start() with a connection to node 'ghost'")
    return err(lambda: net.start())


@case("start_with_unknown_iip_node", timeout=30)
def start_with_unknown_iip_node() -> Any:
    net = Network()
    net.register_actor("tpl_s", make_actor(lambda ctx: ctx.done()))
    net.add_node("a", "tpl_s")
    net.add_initial("ghost", "in", {"type": "Flow"})
    note("net.start() with an IIP for node 'ghost'")
    return err(lambda: net.start())
