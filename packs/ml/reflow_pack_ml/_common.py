"""What the ml pack's actors share: config schemas, tensor ports, turning failures into ``error`` packets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from reflow_cli.tensors import TensorError, to_array

__all__ = ["MlActor", "TENSOR", "error_port", "schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
TENSOR = "a tensor Object {dtype, shape, data: Bytes}"


def schema(properties: Mapping[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A config JSON Schema (2020-12) with ``properties``; unknown keys are refused."""
    out: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": dict(properties),
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    return out


def error_port(what: str) -> PortSpec:
    """The ``error`` outport: bad input goes there as an Error packet (the run goes on)."""
    return PortSpec("error", "Error", what)


class MlActor(Actor):
    """An ml pack actor: ``process`` maps the input packet to outputs; bad input becomes an ``error`` packet."""

    input_port = "input"

    def run(self, ctx: Any) -> None:
        message = ctx.inputs.get(self.input_port)
        if message is None:
            ctx.done()
            return
        if message["type"] == "Flow":  # end of a stream: pass it on
            ctx.done({self.outports[0].name: message})
            return
        try:
            outputs = self.process(message, ctx.config, ctx)
        except (TensorError, ValueError) as exc:
            ctx.done({"error": Message.error(f"{self.component}: {exc}")})
            return
        ctx.done(outputs)

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        """Outputs for one input packet (override)."""
        raise NotImplementedError

    def array(self, message: Message) -> Any:
        """The array a tensor packet holds (zero-copy)."""
        return to_array(message, f"port {self.input_port!r}")
