"""reflow: a flow-based programming runtime on trio.

This module is the SDK's public face; the names below are the whole API.
Porting from ``offbit_reflow`` is a one-line change::

    from reflow_cli import Actor, Network, Message
"""

from ._version import __version__ as __version__
from .actor import Actor as Actor
from .actor import ActorCallContext as ActorCallContext
from .actor import ComponentSpec as ComponentSpec
from .actor import PortSpec as PortSpec
from .actor import TickContext as TickContext
from .compose import SubgraphBuilder as SubgraphBuilder
from .compose import compose_graphs as compose_graphs
from .engine import EventStream as EventStream
from .engine import NetworkStatistics as NetworkStatistics
from .engine import Network as Network
from .engine import RunState as RunState
from .engine import RunStatus as RunStatus
from .engine import Stream as Stream
from .engine import StreamReader as StreamReader
from .engine import shutdown_all_networks as _shutdown_all_networks  # noqa: F401 - the reference's private name, kept for ported atexit code
from .errors import ReflowError as ReflowError
from .graph import Graph as Graph
from .message import Message as Message
from .packs import inspect_pack as inspect_pack
from .packs import list_packs as list_packs
from .packs import load_pack as load_pack
from .packs import pack_abi_version as pack_abi_version
from .registry import template_actor as template_actor
from .registry import template_list as template_list

__all__ = [
    "Actor",
    "ActorCallContext",
    "ComponentSpec",
    "EventStream",
    "Graph",
    "Message",
    "Network",
    "NetworkStatistics",
    "PortSpec",
    "ReflowError",
    "RunState",
    "RunStatus",
    "Stream",
    "StreamReader",
    "SubgraphBuilder",
    "TickContext",
    "__version__",
    "inspect_pack",
    "list_packs",
    "load_pack",
    "pack_abi_version",
    "compose_graphs",
    "template_actor",
    "template_list",
]

# Tracebacks and docs show ``reflow_cli.X``, not the private module path.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) or callable(_obj):
        try:
            _obj.__module__ = __name__
        except (AttributeError, TypeError):  # pragma: no cover - builtins
            pass
del _name, _obj
