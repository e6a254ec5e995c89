"""Actors, their component metadata, and the per-tick context.

An :class:`Actor` declares ports as class attributes and implements
``run(ctx)``, called once per *tick* with a :class:`TickContext`::

    class Doubler(Actor):
        component = "doubler"
        inports = ["in"]
        outports = ["out"]

        def run(self, ctx):
            ctx.done({"out": Message.integer(ctx.inputs["in"]["data"] * 2)})

``run`` may also be ``async def``; then it runs natively on trio and sends with
``await ctx.send_async(...)``. ``threaded = True`` runs a blocking ``run`` in a
worker thread. Optional ``setup(ctx)`` / ``teardown(ctx)`` (sync or async) run
once per node around all its ticks.

Component metadata (:class:`ComponentSpec`) is read from the class without
running anything, so specs can be validated without importing heavy code.
"""

from __future__ import annotations

import fnmatch
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ContextArgumentError, ContextError, ContextTypeError, MessageValueError, PortError, RegistryError
from .message import MESSAGE_TAGS, Message, check_json_value

if TYPE_CHECKING:  # pragma: no cover
    from .engine._node import NodeRuntime

__all__ = [
    "Actor",
    "ActorCallContext",
    "ComponentSpec",
    "PortSpec",
    "TickContext",
    "actor_spec",
    "suggest",
]

_PATTERN_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One declared port of a component.

    ``name`` is an exact port name, or an ``fnmatch`` pattern (``case[1-9]``,
    ``*``) for ports whose names come from the node's config. ``type`` is the
    expected message tag (one of the 16), or ``None`` for any. An ``optional``
    outport (a sink's pass-through, say) need not be connected: validation does
    not warn about it.
    """

    name: str
    type: str | None = None
    description: str = ""
    optional: bool = False

    @property
    def is_pattern(self) -> bool:
        """True when ``name`` is a pattern matching several port names."""
        return not _PATTERN_CHARS.isdisjoint(self.name)

    def matches(self, port: str) -> bool:
        """Whether ``port`` is this port (or matches its pattern)."""
        if self.is_pattern:
            return fnmatch.fnmatchcase(port, self.name)
        return port == self.name

    def to_dict(self) -> dict[str, Any]:
        """JSON form used by ``reflow catalog`` and pack manifests."""
        out: dict[str, Any] = {"name": self.name}
        if self.type is not None:
            out["type"] = self.type
        if self.description:
            out["description"] = self.description
        if self.optional:
            out["optional"] = True
        return out


def _port_spec(value: Any, owner: str) -> PortSpec:
    if isinstance(value, PortSpec):
        return value
    if isinstance(value, str):
        return PortSpec(value)
    if isinstance(value, Mapping) and "name" in value:
        port_type = value.get("type")
        if port_type is not None and port_type not in MESSAGE_TAGS:
            raise RegistryError(
                f"{owner}: port {value['name']!r} has unknown message type {port_type!r}; "
                f"use one of {', '.join(MESSAGE_TAGS)}"
            )
        return PortSpec(
            str(value["name"]), port_type, str(value.get("description", "")), bool(value.get("optional", False))
        )
    raise RegistryError(f"{owner}: a port must be a name, a PortSpec or a {{'name': ...}} mapping, not {value!r}")


def _ports(values: Iterable[Any] | None, owner: str) -> tuple[PortSpec, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    ports = tuple(_port_spec(v, owner) for v in values)
    names = [p.name for p in ports]
    if len(set(names)) != len(names):
        duplicates = sorted({n for n in names if names.count(n) > 1})
        raise RegistryError(f"{owner}: duplicate port names {duplicates}")
    return ports


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate within edit distance 2 of ``name``, for "did you mean" hints."""
    best: tuple[int, str] | None = None
    for candidate in candidates:
        distance = _edit_distance(name, candidate, limit=2)
        if distance <= 2 and (best is None or distance < best[0]):
            best = (distance, candidate)
    return None if best is None else best[1]


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, giving up (returning limit + 1) once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class ComponentSpec:
    """What a component declares, readable without running it.

    ``config_schema`` is a JSON Schema for the node config; top-level
    ``default`` values are filled into ``ctx.config``.
    """

    component: str
    inports: tuple[PortSpec, ...] = ()
    outports: tuple[PortSpec, ...] = ()
    await_all_inports: bool = False
    threaded: bool = False
    is_async: bool = False
    long_running: bool = False
    config_schema: Mapping[str, Any] | None = None
    description: str = ""
    example: Mapping[str, Any] | None = None
    _in_exact: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _out_exact: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_in_exact", frozenset(p.name for p in self.inports if not p.is_pattern))
        object.__setattr__(self, "_out_exact", frozenset(p.name for p in self.outports if not p.is_pattern))

    def has_inport(self, name: str) -> bool:
        """Whether ``name`` is a declared inport (exactly or by pattern)."""
        return name in self._in_exact or any(p.matches(name) for p in self.inports if p.is_pattern)

    def has_outport(self, name: str) -> bool:
        """Whether ``name`` is a declared outport (exactly or by pattern)."""
        return name in self._out_exact or any(p.matches(name) for p in self.outports if p.is_pattern)

    def inport(self, name: str) -> PortSpec | None:
        """The declaration covering inport ``name``, if any."""
        return next((p for p in self.inports if p.matches(name)), None)

    def outport(self, name: str) -> PortSpec | None:
        """The declaration covering outport ``name``, if any."""
        return next((p for p in self.outports if p.matches(name)), None)

    def config_defaults(self) -> dict[str, Any]:
        """Top-level ``default`` values of the config schema."""
        schema = self.config_schema or {}
        properties = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        return {
            key: prop["default"]
            for key, prop in properties.items()
            if isinstance(prop, Mapping) and "default" in prop
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON form (for ``reflow catalog show`` and pack manifests)."""
        out: dict[str, Any] = {
            "component": self.component,
            "inports": [p.to_dict() for p in self.inports],
            "outports": [p.to_dict() for p in self.outports],
            "await_all_inports": self.await_all_inports,
            "threaded": self.threaded,
            "long_running": self.long_running,
            "description": self.description,
        }
        if self.config_schema is not None:
            out["config_schema"] = dict(self.config_schema)
        if self.example is not None:
            out["example"] = dict(self.example)
        return out


def _is_async_callable(fn: Any) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


class Actor:
    """Base class for actors written in Python.

    Class attributes declare the component (instances may override them):

    - ``component``: a name for the component (informational);
    - ``inports`` / ``outports``: port names (or :class:`PortSpec` /
      ``{"name", "type"}`` mappings; ``fnmatch`` patterns such as
      ``case[1-9]`` for config-derived ports). An outport named ``error`` is
      an *error port*: a packet on it while it is unconnected is a failure;
    - ``await_all_inports``: fire a tick only when every connected inport has
      a packet, taking one from each (FIFO, nothing overwritten);
    - ``threaded``: run a blocking ``run`` in a worker thread;
    - ``long_running``: a tick loops until stopped (a timer, a server, a
      watcher): shutdown cancels it at once instead of waiting for it (an
      ``async`` tick is cancelled; a sync or threaded one should return
      when ``ctx.stopping`` turns true);
    - ``config_schema``, ``description``, ``example``: metadata for validation
      and the catalog.

    Override :meth:`run`. Exactly one of ``ctx.done`` / ``ctx.fail`` ends a
    tick; returning without either is an implicit ``ctx.done()`` (emitted
    packets are delivered), and raising is a ``ctx.fail``.

    An actor with one inport may define ``async def run_batch(self, ctx,
    packets)`` instead: it receives up to ``batch_size`` packets at once (bulk
    writes, remote calls); its outputs go through ``ctx`` as usual, and a
    raising batch counts as a failure of each of its packets.
    """

    component: str = "anonymous"
    inports: Any = ()
    outports: Any = ()
    await_all_inports: bool = False
    threaded: bool = False
    long_running: bool = False
    config_schema: Mapping[str, Any] | None = None
    description: str = ""
    example: Mapping[str, Any] | None = None

    def run(self, ctx: TickContext) -> Any:
        """Handle one tick. Override this (``def`` or ``async def``)."""
        raise NotImplementedError(f"{type(self).__name__}.run() is not implemented")

    @classmethod
    def spec(cls) -> ComponentSpec:
        """The component metadata declared by this class (no instance needed)."""
        return _spec_from(cls, cls)

    @staticmethod
    def from_callback(
        component: str,
        inports: Iterable[Any],
        outports: Iterable[Any],
        callable: Callable[[TickContext], Any],  # noqa: A002 - the reference's parameter name
        await_all_inports: bool = False,
    ) -> Actor:
        """Build an actor from a plain function ``callable(ctx)`` (as the reference's native ``Actor``)."""
        return _CallbackActor(component, list(inports), list(outports), callable, await_all_inports)


class _CallbackActor(Actor):
    """An actor whose tick body is a function given at construction."""

    def __init__(
        self,
        component: str,
        inports: list[Any],
        outports: list[Any],
        body: Callable[[TickContext], Any],
        await_all_inports: bool,
    ) -> None:
        if not callable(body):
            raise RegistryError(f"Actor.from_callback: callable must be callable, not {body!r}")
        self.component = component
        self.inports = inports
        self.outports = outports
        self.await_all_inports = bool(await_all_inports)
        self._body = body
        if _is_async_callable(body):
            self.run = self._run_async  # type: ignore[method-assign]

    def run(self, ctx: TickContext) -> Any:
        return self._body(ctx)

    async def _run_async(self, ctx: TickContext) -> Any:
        return await self._body(ctx)


def _first_doc_line(obj: Any) -> str:
    doc = inspect.getdoc(obj) if isinstance(obj, type) and obj.__doc__ else None
    return doc.strip().splitlines()[0] if doc else ""


def _spec_from(source: Any, cls: type) -> ComponentSpec:
    owner = f"component {getattr(source, 'component', cls.__name__)!r}"
    description = getattr(source, "description", "") or (
        _first_doc_line(cls) if cls.__doc__ and cls.__doc__ is not Actor.__doc__ else ""
    )
    run = getattr(source, "run", None)
    return ComponentSpec(
        component=str(getattr(source, "component", cls.__name__)),
        inports=_ports(getattr(source, "inports", ()), owner),
        outports=_ports(getattr(source, "outports", ()), owner),
        await_all_inports=bool(getattr(source, "await_all_inports", False)),
        threaded=bool(getattr(source, "threaded", False)),
        is_async=_is_async_callable(run),
        long_running=bool(getattr(source, "long_running", False)),
        config_schema=getattr(source, "config_schema", None),
        description=description,
        example=getattr(source, "example", None),
    )


def actor_spec(actor: Any) -> ComponentSpec:
    """The component metadata of an actor instance or an Actor subclass."""
    if isinstance(actor, type):
        return _spec_from(actor, actor)
    return _spec_from(actor, type(actor))


# --- the tick context ----------------------------------------------------------

_OPEN, _DONE, _FAILED = 0, 1, 2
_new = object.__new__


def coerce_output(value: Any, port: str) -> Message | None:
    """Turn an output value into a Message (``None`` means nothing on that port)."""
    if type(value) is Message or value is None:
        return value
    if isinstance(value, Message):
        return value
    if isinstance(value, Mapping):
        return Message.from_json(value)
    raise ContextArgumentError(
        f"output for port {port!r} must be a Message or a tagged dict like "
        f"{{'type': 'Integer', 'data': 1}}, not {type(value).__name__} {value!r:.60}"
    )


class TickContext:
    """What ``run(ctx)`` sees for one tick.

    - ``inputs``: ``{port: message}``; each message is a read-only mapping
      with ``["type"]``/``["data"]`` (and ``.take_stream()``).
    - ``config``: the node's config (defaults filled in): a copy per tick, so
      changes made in one tick do not leak into the next.
    - ``state``: a per-node dict for non-JSON objects (clients, sessions...).
    - ``node_id``: the id of the node running this tick.
    """

    __slots__ = ("inputs", "state", "_node", "_config", "_emitted", "_outputs", "_status", "_error")

    inputs: dict[str, Message]
    state: dict[str, Any]

    def __init__(self, node: NodeRuntime, inputs: dict[str, Message]) -> None:
        self._node = node
        self.inputs = inputs
        self.state = node.state
        self._config = None
        self._emitted = None
        self._outputs = None
        self._status = _OPEN
        self._error = None

    @property
    def config(self) -> dict[str, Any]:
        """This node's config, copied on first use in each tick (read-only attribute)."""
        config = self._config
        if config is None:
            config = self._config = dict(self._node.config)
        return config

    @property
    def node_id(self) -> str:
        """The id of the node this tick runs for."""
        return self._node.id

    def connected(self, port: str) -> bool:
        """Whether outport ``port`` of this node is connected (packets sent elsewhere go nowhere)."""
        return port in self._node.outbox

    @property
    def stopping(self) -> bool:
        """Whether the run is being stopped (shutdown, ``--duration``, Ctrl-C, a failure under ``fail``).

        Async ticks are cancelled instead; a *sync* or threaded long-running
        tick (a polling loop) checks this between rounds and returns.
        """
        return self._node.run.winding_down

    # -- outputs ---------------------------------------------------------------

    def _check_port(self, port: Any) -> None:
        if not self._node.has_outport(port):
            raise _bad_port(self._node, port)

    def emit(self, port: str, message: Any) -> None:
        """Queue a packet on ``port``; flushed at ``done``. The last emit per port wins."""
        if self._status is not _OPEN:
            raise ContextError("actor context already resolved")
        self._check_port(port)
        if self._emitted is None:
            self._emitted = {}
        self._emitted[port] = coerce_output(message, port)

    def send(self, messages: Mapping[str, Any]) -> None:
        """Push packets immediately (``{port: message}``), before the tick ends.

        On a full inport this suspends just this tick until there is room
        (backpressure), in sync, async and threaded actors alike.
        """
        if self._status is not _OPEN:
            raise ContextError("actor context already resolved")
        if type(messages) is not dict and not isinstance(messages, Mapping):
            raise ContextArgumentError("ctx.send(messages) expects a dict keyed by port")
        node = self._node
        for port, value in messages.items():
            if not node.has_outport(port):
                raise _bad_port(node, port)
            message = value if type(value) is Message else coerce_output(value, port)
            if message is not None:
                node.send_now(port, message, self.inputs)

    async def send_async(self, messages: Mapping[str, Any]) -> None:
        """Async form of :meth:`send` for ``async def run`` actors."""
        if self._status is not _OPEN:
            raise ContextError("actor context already resolved")
        if not isinstance(messages, Mapping):
            raise ContextArgumentError("ctx.send_async(messages) expects a dict keyed by port")
        node = self._node
        for port, value in messages.items():
            if not node.has_outport(port):
                raise _bad_port(node, port)
            message = coerce_output(value, port)
            if message is not None:
                await node.send_async(port, message, self.inputs)

    def done(self, outputs: Mapping[str, Any] | None = None) -> None:
        """End the tick successfully, emitting ``outputs`` (``{port: message}``).

        Values may be Messages, tagged dicts, or input messages forwarded as
        they are; ``None`` means nothing on that port. Entries override
        earlier ``emit`` calls on the same port.
        """
        if self._status is not _OPEN:
            raise ContextError("actor context already resolved")
        if outputs is not None:
            if type(outputs) is not dict:
                if not isinstance(outputs, Mapping):
                    raise ContextArgumentError("ctx.done(outputs) expects a dict keyed by port")
                outputs = dict(outputs)
            node = self._node
            for port, value in outputs.items():
                if not node.has_outport(port):
                    raise _bad_port(node, port)
                if type(value) is not Message and value is not None:
                    outputs = {p: coerce_output(v, p) for p, v in outputs.items()}
                    break
            if self._emitted:
                outputs = {**self._emitted, **outputs}
            self._outputs = outputs
        else:
            self._outputs = self._emitted
        self._status = _DONE

    def fail(self, message: Any) -> None:
        """End the tick with an error; packets emitted but not flushed are discarded.

        The failure is reported as an ``ActorFailed`` event and handled by the
        node's error policy (never silently dropped).
        """
        if self._status is not _OPEN:
            raise ContextError("actor context already resolved")
        self._status = _FAILED
        self._error = message if isinstance(message, str) else _describe_error(message)
        self._emitted = None

    # -- pools -------------------------------------------------------------------

    def pool(self, pool_name: str) -> dict[str, Any]:
        """A copy of the node's pool ``pool_name`` as ``{id: value}``, keys sorted; ``{}`` if absent."""
        entries = self._node.pools.get(_pool_name(pool_name))
        return {key: entries[key] for key in sorted(entries)} if entries else {}

    def pool_upsert(self, pool_name: str, id: str, value: Any) -> None:  # noqa: A002 - reference name
        """Insert or replace ``id`` in pool ``pool_name`` (per node, persists across ticks)."""
        name = _pool_name(pool_name)
        if not isinstance(id, str):
            raise ContextTypeError(f"argument 'id': a pool id must be a string, not {type(id).__name__} {id!r}")
        try:
            check_json_value(value, f"pool {name!r} value")
        except MessageValueError as exc:
            raise ContextArgumentError(str(exc)) from None
        self._node.pools.setdefault(name, {})[id] = value

    def pool_remove(self, pool_name: str, id: str) -> None:  # noqa: A002 - reference name
        """Remove ``id`` from pool ``pool_name`` (no error if absent)."""
        if not isinstance(id, str):
            raise ContextTypeError(f"argument 'id': a pool id must be a string, not {type(id).__name__} {id!r}")
        entries = self._node.pools.get(_pool_name(pool_name))
        if entries is not None:
            entries.pop(id, None)

    def pool_count(self, pool_name: str) -> int:
        """Number of entries in pool ``pool_name``."""
        entries = self._node.pools.get(_pool_name(pool_name))
        return len(entries) if entries else 0

    def pool_clear(self, pool_name: str) -> None:
        """Remove every entry of pool ``pool_name`` (no error if absent)."""
        self._node.pools.pop(_pool_name(pool_name), None)

    def __repr__(self) -> str:
        return f"<TickContext node={self._node.id!r} inputs={self.inputs!r}>"


#: The reference SDK's name for the tick context.
ActorCallContext = TickContext


def _pool_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ContextTypeError(f"argument 'pool_name': a pool name must be a string, not {type(name).__name__} {name!r}")
    return name


def _bad_port(node: NodeRuntime, port: Any) -> ContextError | PortError:
    """The error for an output on ``port``: not a string, or not declared."""
    if not isinstance(port, str):
        return ContextTypeError(f"argument 'port': a port name must be a string, not {type(port).__name__} {port!r}")
    return node.unknown_outport(port)


def _describe_error(error: Any) -> str:
    if isinstance(error, BaseException):
        text = str(error)
        return f"{type(error).__name__}: {text}" if text else type(error).__name__
    return str(error)


def describe_exception(error: BaseException) -> str:
    """How a raised exception is reported (``"ValueError: bad input"``), as the reference does."""
    return _describe_error(error)


def unknown_port_error(node_id: str, component: str, port: str, declared: Iterable[str], direction: str) -> PortError:
    """A :class:`PortError` naming the port, the declared ones and a close match."""
    names = sorted(declared)
    hint = suggest(str(port), names)
    text = f"node {node_id!r} ({component}) has no {direction} {port!r}"
    text += f"; declared: {', '.join(names)}" if names else f"; it declares no {direction}s"
    if hint:
        text += f" (did you mean {hint!r}?)"
    return PortError(text)
