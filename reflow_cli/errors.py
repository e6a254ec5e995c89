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
    │   └── MessageRangeError        number out of range in a JSON form (all three builtins)
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
    └── StreamError                  stream misuse (RuntimeError)
        └── NotAStreamError          ``take_stream()`` on a non-stream (ValueError)
"""

from __future__ import annotations

__all__ = [
    "ActorError",
    "CapacityError",
    "ComponentTypeError",
    "ConfigError",
    "ContextArgumentError",
    "ContextError",
    "ContextTypeError",
    "GraphError",
    "GraphFormatError",
    "GraphTypeError",
    "MessageError",
    "MessageFormatError",
    "MessageOverflowError",
    "MessageRangeError",
    "MessageTypeError",
    "MessageValueError",
    "NetworkError",
    "NetworkStateError",
    "NotAStreamError",
    "PortError",
    "ReflowError",
    "RegistryError",
    "StreamError",
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


# --- streams ----------------------------------------------------------------


class StreamError(ReflowError, RuntimeError):
    """A stream was misused (taken twice, written after ``end``...)."""


class NotAStreamError(StreamError, ValueError):
    """``take_stream()`` was called on a message that is not a ``StreamHandle``."""


class CapacityError(NetworkError, ValueError):
    """A queue capacity is not a positive integer, or two connections ask one inport for different ones."""


class ConfigError(NetworkError, ValueError):
    """A node's config does not match its component's config schema."""
