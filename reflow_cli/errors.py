"""The reflow exception family.

Every error reflow raises on purpose derives from :class:`ReflowError`. Where
the reference runtime (``offbit-reflow``) raised a builtin exception for the
same situation, our class *also* derives from that builtin, so code ported
with ``except ValueError:`` or ``except RuntimeError:`` keeps working.

The tree::

    ReflowError
    ├── MessageError                 a message value or JSON form is wrong
    │   ├── MessageFormatError       malformed ``{"type", "data"}`` form (RuntimeError)
    │   ├── MessageValueError        value of the wrong shape (ValueError)
    │   ├── MessageTypeError         value of the wrong Python type (TypeError)
    │   ├── MessageOverflowError     integer outside i64 (OverflowError)
    │   ├── MessageRangeError        number out of range in a JSON form (all three builtins)
    │   └── TensorError              not a tensor ``{dtype, shape, data}``, or numpy missing (ValueError)
    ├── GraphError                   graph mutation or export is invalid (ValueError)
    │   ├── GraphTypeError           argument of the wrong type (TypeError)
    │   └── GraphFormatError         malformed Graph JSON export (RuntimeError)
    ├── RegistryError                component registration or lookup failed (RuntimeError)
    │   ├── ComponentTypeError       not an actor, Actor subclass or factory (TypeError)
    │   ├── TemplateIdTypeError      a template id that is not a str (TypeError)
    │   └── UnknownComponentError    no such template id (ValueError)
    ├── NetworkError                 network wiring or lifecycle misuse (RuntimeError)
    │   ├── PortError                unknown port on a node (ValueError)
    │   ├── CapacityError            bad or conflicting queue capacity (ValueError)
    │   ├── ConfigError              node config fails its schema (ValueError)
    │   ├── NetworkStateError        e.g. ``start()`` twice
    │   └── UnresolvedComponentsError  components missing at ``start()``
    ├── ContextError                 misuse of the tick context (RuntimeError)
    │   ├── ContextArgumentError     wrong argument to ``done``/``send`` (ValueError)
    │   └── ContextTypeError         a port or pool name that is not a str (TypeError)
    ├── ActorError                   an actor's tick failed (carried in events/status)
    ├── FileWriteError               a file a run writes (trace, dead letters) cannot be written (OSError)
    ├── StreamError                  stream misuse (RuntimeError)
    │   └── NotAStreamError          ``take_stream()`` on a non-stream (ValueError)
    ├── CompositionError             composing graphs or inlining a subgraph failed
    │   ├── CompositionFormatError   malformed ``compose_graphs`` request (ValueError)
    │   ├── NamespaceConflictError   two graphs share a namespace, or a name gives none (ValueError)
    │   ├── CompositionConnectionError  a cross-graph connection names an unknown process (ValueError)
    │   │   └── CompositionPortError    ... or a port its component does not declare
    │   ├── DependencyError          a graph depends on one that is not composed (RuntimeError)
    │   │   └── DependencyCycleError graphs depend on each other in a cycle
    │   ├── SharedResourceConflictError  two shared resources with one name differ (ValueError)
    │   └── SubgraphError            a subgraph cannot be built or inlined (RuntimeError)
    │       └── SubgraphComponentError  a subgraph process uses an unregistered component
    └── PackError                    an actor pack could not be built, read, installed or loaded (RuntimeError)
        ├── PackNotFoundError        no bundle, folder or installed pack by that name
        ├── PackFormatError          not a .rflpack bundle, or its manifest breaks the pack schema
        │   ├── ReferencePackError   an offbit-reflow (Rust cdylib) pack: recognised, refused
        │   └── PackABIError         built for another pack ABI than this reflow's
        ├── PackSafetyError          an unsafe bundle member (escaping path, link, bomb, hash mismatch)
        ├── PackPlatformError        no build for this platform and its requirements are missing
        ├── PackConflictError        two providers of one template id, or two versions or contents of one pack
        ├── PackLoadError            the pack's own code failed to import or to register its templates
        ├── PackBuildError           ``reflow pack build``/``strip`` failed (pack.yaml, pip download)
        └── PackInstallError         installing or removing a pack failed (offline pip, file system)

Five more subclasses of :class:`ReflowError` live beside the code that raises
them: ``diagram.DiagramError`` (Graphviz missing or failing),
``trace_summary.TraceFormatError`` (no trace event in the file, ValueError),
``trace.TraceWriteError`` (a trace file that cannot be written) and
``engine._policies.DeadLetterError`` (a dead letter that cannot be written), both FileWriteErrors, and
``metrics.MetricsError`` (a malformed metrics address or a port that cannot be bound, OSError). The
catalog's ``ExpressionError`` and ``CronError`` are ReflowErrors (and ValueErrors) too. Spec
files never raise: every problem in one is a diagnostic with a code
(``docs/errors.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ActorError",
    "CapacityError",
    "ComponentTypeError",
    "CompositionConnectionError",
    "CompositionError",
    "CompositionFormatError",
    "CompositionPortError",
    "ConfigError",
    "ContextArgumentError",
    "ContextError",
    "ContextTypeError",
    "DependencyCycleError",
    "DependencyError",
    "FileWriteError",
    "GraphError",
    "GraphFormatError",
    "GraphTypeError",
    "MessageError",
    "MessageFormatError",
    "MessageOverflowError",
    "MessageRangeError",
    "MessageTypeError",
    "MessageValueError",
    "NamespaceConflictError",
    "NetworkError",
    "NetworkStateError",
    "NotAStreamError",
    "PortError",
    "ReflowError",
    "RegistryError",
    "SharedResourceConflictError",
    "StreamError",
    "TensorError",
    "SubgraphComponentError",
    "SubgraphError",
    "TemplateIdTypeError",
    "UnknownComponentError",
    "UnresolvedComponentsError",
]


class ReflowError(Exception):
    """Root of every error reflow raises on purpose."""


# --- messages ---------------------------------------------------------------


class MessageError(ReflowError):
    """A message value or its JSON form is not acceptable."""


class MessageFormatError(MessageError, RuntimeError):
    """A ``{"type": ..., "data": ...}`` form is malformed (unknown tag, missing field...)."""


class MessageValueError(MessageError, ValueError):
    """A value has the wrong shape for the requested message type."""


class MessageTypeError(MessageError, TypeError):
    """A value has the wrong Python type for the requested message type."""


class MessageOverflowError(MessageError, OverflowError):
    """An integer does not fit the 64-bit signed range of ``Integer`` messages."""


class TensorError(MessageValueError):
    """A packet is not a tensor ``{dtype, shape, data}`` of the expected form, or numpy is not installed."""


class MessageRangeError(MessageFormatError, MessageOverflowError, ValueError):
    """A number in a JSON form is out of range (also a ValueError/RuntimeError, as the reference raised)."""


# --- graphs -----------------------------------------------------------------


class GraphError(ReflowError, ValueError):
    """A graph mutation names something that does not exist, or is otherwise invalid."""


class GraphTypeError(GraphError, TypeError):
    """A graph method got an argument of the wrong Python type (e.g. a non-str node id)."""


class GraphFormatError(GraphError, RuntimeError):
    """A Graph JSON export is malformed (missing field, wrong type)."""


# --- components and registry ------------------------------------------------


class RegistryError(ReflowError, RuntimeError):
    """A component could not be registered or looked up (e.g. an id registered twice)."""


class ComponentTypeError(RegistryError, TypeError):
    """Something that is not an actor, an Actor subclass or a factory was registered."""


class UnknownComponentError(RegistryError, ValueError):
    """No component is registered under the requested template id."""


class TemplateIdTypeError(RegistryError, TypeError):
    """A template id is not a string."""


# --- networks ---------------------------------------------------------------


class NetworkError(ReflowError, RuntimeError):
    """A network was wired or driven incorrectly."""


class PortError(NetworkError, ValueError):
    """A connection, IIP or output names a port the component does not declare."""


class NetworkStateError(NetworkError):
    """The call does not fit the network's lifecycle state (e.g. ``start()`` twice)."""


class UnresolvedComponentsError(NetworkError):
    """Components used by nodes could not be resolved when the network started."""

    def __init__(self, missing: dict[str, str], reasons: dict[str, str] | None = None) -> None:
        self.missing = dict(missing)
        reasons = reasons or {}
        listing = "; ".join(
            f"{node!r} uses {comp!r}" + (f" ({reasons[node]})" if node in reasons else "")
            for node, comp in sorted(missing.items())
        )
        super().__init__(
            f"{len(missing)} node(s) use unknown components: {listing}; "
            "register them with register_actor() before start(), or check the template ids"
        )


# --- actors and their tick context ------------------------------------------


class ContextError(ReflowError, RuntimeError):
    """The tick context was misused (``done`` twice, ``send`` after ``done``...)."""


class ContextArgumentError(ContextError, ValueError):
    """An argument to a context method has the wrong shape (e.g. ``done(5)``)."""


class ContextTypeError(ContextError, TypeError):
    """A port name, pool name or pool id given to the tick context is not a string."""


class ActorError(ReflowError):
    """An actor's tick failed; carries the node id and the error text."""

    def __init__(self, node_id: str, error: str) -> None:
        self.node_id = node_id
        self.error = error
        super().__init__(f"node {node_id!r} failed: {error}")


class FileWriteError(ReflowError, OSError):
    """A file a run writes as it goes cannot be written (a folder, a missing folder, no permission, a full disk).

    ``path`` is the file, ``reason`` the operating system's words; a subclass
    says what was being written through :attr:`writing`.
    """

    writing = "write"

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot {self.writing} {self.path}: {reason}")

    @classmethod
    def from_os_error(cls, path: str | os.PathLike[str], exc: OSError) -> FileWriteError:
        """The error for ``exc``, raised while writing ``path``."""
        return cls(path, exc.strerror or str(exc))

    def __reduce__(self) -> tuple[type[FileWriteError], tuple[str, str]]:
        return type(self), (str(self.path), self.reason)


# --- streams ----------------------------------------------------------------


class StreamError(ReflowError, RuntimeError):
    """A stream was misused (taken twice, written after ``end``...)."""


class NotAStreamError(StreamError, ValueError):
    """``take_stream()`` was called on a message that is not a ``StreamHandle``."""


class CapacityError(NetworkError, ValueError):
    """A queue capacity is not a positive integer, or two connections ask one inport for different ones."""


class ConfigError(NetworkError, ValueError):
    """A node's config does not match its component's config schema."""


# --- composition and subgraphs ------------------------------------------------


class CompositionError(ReflowError):
    """Composing graphs (``compose_graphs``, ``reflow compose``) or inlining a subgraph failed."""


class CompositionFormatError(CompositionError, ValueError):
    """A ``compose_graphs`` request is malformed: a missing field, a value of the wrong type."""


class NamespaceConflictError(CompositionError, ValueError):
    """Two composed graphs would share one namespace, or a graph's name gives an empty one."""


class CompositionConnectionError(CompositionError, ValueError):
    """A cross-graph connection names a process, graph or exported port that does not exist."""


class CompositionPortError(CompositionConnectionError):
    """A cross-graph connection uses a port that its process's component does not declare."""


class DependencyError(CompositionError, RuntimeError):
    """A composed graph depends on a graph that is not part of the composition."""


class DependencyCycleError(DependencyError):
    """Composed graphs depend on each other in a cycle."""


class SharedResourceConflictError(CompositionError, ValueError):
    """Two shared resources with one name differ, or a shared resource's name is taken."""


class SubgraphError(CompositionError, RuntimeError):
    """A subgraph cannot be built or inlined (an unknown exported port, a bad config override)."""


class SubgraphComponentError(SubgraphError):
    """A process of a subgraph uses a component that is neither registered nor in the catalog."""


# --- actor packs --------------------------------------------------------------

__all__ += [
    "PackABIError",
    "PackBuildError",
    "PackConflictError",
    "PackError",
    "PackFormatError",
    "PackInstallError",
    "PackLoadError",
    "PackNotFoundError",
    "PackPlatformError",
    "PackSafetyError",
    "ReferencePackError",
]


class PackError(ReflowError, RuntimeError):
    """An actor pack could not be built, read, installed or loaded (the reference raised RuntimeError)."""


class PackNotFoundError(PackError):
    """No pack bundle, pack folder or installed pack exists under the given path or name."""


class PackFormatError(PackError):
    """A file is not a ``.rflpack`` bundle, or its ``manifest.json`` does not match the pack schema."""


class ReferencePackError(PackFormatError):
    """The bundle is an offbit-reflow pack (native Rust cdylibs), which reflow recognises but cannot load."""


class PackABIError(PackFormatError):
    """The pack was built for another pack ABI version than this reflow's ``pack_abi_version()``."""


class PackSafetyError(PackError):
    """A bundle member is unsafe: an escaping or absolute path, a link, too large, over-compressed, or a hash mismatch."""


class PackPlatformError(PackError):
    """The bundle has no build for this platform and the pack's requirements are not installed here."""


class PackConflictError(PackError):
    """Two providers (packs, the catalog, user code) offer one template id, or two versions (or contents) of one pack are loaded."""


class PackLoadError(PackError):
    """The pack's code failed to import, or its entrypoint registered other templates than its manifest lists."""


class PackBuildError(PackError):
    """Building or stripping a pack failed: a bad ``pack.yaml``, unreadable code, or a failed ``pip download``."""


class PackInstallError(PackError):
    """Installing or removing a pack failed (offline pip install of vendored wheels, file system errors)."""
