"""The execution engine: compile a graph and run it (trio today, other executors behind the seam).

Public names here are re-exported by :mod:`reflow_cli`; the private modules
(``_node``, ``_scheduler``...) are implementation details.
"""

from ._events import EventStream as EventStream
from ._executor import Executor as Executor
from ._executor import Run as Run
from ._executor import TrioExecutor as TrioExecutor
from ._executor import get_executor as get_executor
from ._executor import register_executor as register_executor
from ._network import Network as Network
from ._network import shutdown_all_networks as shutdown_all_networks
from ._plan import RunOptions as RunOptions
from ._stats import EdgeStatistics as EdgeStatistics
from ._stats import InportStatistics as InportStatistics
from ._stats import NetworkStatistics as NetworkStatistics
from ._stats import NodeStatistics as NodeStatistics
from ._status import FailureRecord as FailureRecord
from ._status import RunState as RunState
from ._status import RunStatus as RunStatus
from ._streams import Stream as Stream
from ._streams import StreamReader as StreamReader

__all__ = [
    "EdgeStatistics",
    "EventStream",
    "Executor",
    "FailureRecord",
    "InportStatistics",
    "Network",
    "NetworkStatistics",
    "NodeStatistics",
    "Run",
    "RunOptions",
    "RunState",
    "RunStatus",
    "Stream",
    "StreamReader",
    "TrioExecutor",
    "get_executor",
    "register_executor",
    "shutdown_all_networks",
]
