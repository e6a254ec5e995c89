"""``tpl_ml_run_inference``: an ONNX model on onnxruntime, one session per node.

The session is made in ``setup`` from the config's ``model`` path (relative to
the working directory, which ``reflow run`` sets to the spec's folder), or
from ONNX bytes sent on the ``model`` port (which replace the model). Input
tensors are cast to the model's input types; outputs are tensors.

By default a tick runs on the event loop's thread: onnxruntime releases the
GIL and uses its own threads, and a small model then costs only microseconds
per packet. Set ``threaded: true`` to run ticks in a worker thread when long
inferences must not hold up other nodes (it adds the thread hand-off to every
packet).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from ._common import TENSOR, schema
from reflow_cli.tensors import TensorError, is_tensor, np, tensor_data, to_array

__all__ = ["COMPONENTS", "RunInference"]

#: onnxruntime's input type names -> numpy dtypes
_ORT_TYPES = {
    "tensor(float)": "float32", "tensor(double)": "float64", "tensor(float16)": "float16",
    "tensor(int8)": "int8", "tensor(int16)": "int16", "tensor(int32)": "int32", "tensor(int64)": "int64",
    "tensor(uint8)": "uint8", "tensor(uint16)": "uint16", "tensor(uint32)": "uint32", "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
}


def onnxruntime() -> Any:
    """onnxruntime, imported when a session is first made (with a helpful message when it is missing)."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise RuntimeError(
            "tpl_ml_run_inference needs onnxruntime: pip install onnxruntime (or 'reflow-cli[ml]'), "
            "or install a bundle of the ml pack built with --platform for this machine"
        ) from None
    return ort


class Session:
    """An onnxruntime session and what each tick needs of it, worked out once."""

    def __init__(self, model: str | bytes, config: Mapping[str, Any]) -> None:
        ort = onnxruntime()
        options = ort.SessionOptions()
        if config["threads"]:
            options.intra_op_num_threads = config["threads"]
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(model, sess_options=options, providers=list(config["providers"]))
        except Exception as exc:  # onnxruntime raises its own exception types
            what = f"{model!r}" if isinstance(model, str) else f"{len(model)} bytes"
            raise RuntimeError(f"cannot load the ONNX model {what}: {' '.join(str(exc).split())}") from None
        inputs = self.session.get_inputs()
        self.input_names = [i.name for i in inputs]
        self.input_types = {i.name: np().dtype(_ORT_TYPES.get(i.type, "float32")) for i in inputs}
        available = [o.name for o in self.session.get_outputs()]
        wanted = list(config["outputs"]) or available
        unknown = [name for name in wanted if name not in available]
        if unknown:
            raise RuntimeError(f"the model has no output {', '.join(map(repr, unknown))}; its outputs: {', '.join(available)}")
        self.output_names = wanted
        first = config["input_name"] or self.input_names[0]
        if first not in self.input_types:
            raise RuntimeError(f"the model has no input {first!r}; its inputs: {', '.join(self.input_names)}")
        self.first_input = first
        self.run = self.session.run

    def feeds(self, data: Any) -> dict[str, Any]:
        """``{input name: array}`` from a tensor (the first input) or a ``{name: tensor}`` object."""
        if is_tensor(data):
            array = to_array(data, "input")
            wanted = self.input_types[self.first_input]
            return {self.first_input: array if array.dtype == wanted else array.astype(wanted)}
        if not isinstance(data, Mapping) or not data:
            raise TensorError(f"input: expected a tensor or {{input name: tensor}}; the model's inputs: {', '.join(self.input_names)}")
        feeds = {}
        for name, value in data.items():
            wanted = self.input_types.get(name)
            if wanted is None:
                raise TensorError(f"the model has no input {name!r}; its inputs: {', '.join(self.input_names)}")
            array = to_array(value, f"input {name!r}")
            feeds[name] = array if array.dtype == wanted else array.astype(wanted)
        return feeds


class RunInference(Actor):
    """Runs an ONNX model on each input tensor."""

    component = "tpl_ml_run_inference"
    inports = [
        PortSpec("input", "Object", TENSOR + " for the model's first input, or {input name: tensor}"),
        PortSpec("model", "Bytes", "ONNX model bytes: load (or replace) the model"),
    ]
    outports = [
        PortSpec("output", "Object", "the first output tensor (of `outputs`, when given)"),
        PortSpec("outputs", "Object", "{output name: tensor} of every output asked for", optional=True),
        PortSpec("error", "Error", "bad input tensors, or a failed inference"),
    ]
    config_schema = schema({
        "model": {"type": "string", "default": "", "description": "Path of the .onnx model, relative to the working "
                  "directory (the spec's folder under reflow run); or send the bytes on `model`."},
        "input_name": {"type": "string", "default": "",
                       "description": "The model input a bare tensor goes to (default: the first)."},
        "outputs": {"type": "array", "items": {"type": "string"}, "default": [],
                    "description": "Output names to compute, in order (default: all of them)."},
        "threads": {"type": "integer", "minimum": 0, "default": 0,
                    "description": "onnxruntime intra-op threads (0: onnxruntime's default)."},
        "providers": {"type": "array", "items": {"type": "string"}, "default": ["CPUExecutionProvider"],
                      "description": "onnxruntime execution providers, in order of preference."},
        "threaded": {"type": "boolean", "default": False, "description": "Run each inference in a worker thread "
                     "(for long models when other nodes must keep running; adds a thread hand-off per packet)."},
    })
    description = (
        "Runs an ONNX model (onnxruntime) on each tensor on `input` (or {name: tensor} for several inputs) and "
        "sends the first output on `output` and all of them on `outputs`. Tensors are cast to the model's input types."
    )

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.threaded = bool((config or {}).get("threaded", False))

    def setup(self, ctx: Any) -> None:
        """Load the model named by the config (once per node)."""
        if ctx.config["model"]:
            ctx.state["session"] = Session(ctx.config["model"], ctx.config)

    def teardown(self, ctx: Any) -> None:
        """Drop the session."""
        ctx.state.pop("session", None)

    def run(self, ctx: Any) -> None:
        inputs = ctx.inputs
        model = inputs.get("model")
        if model is not None:
            if model["type"] != "Bytes":
                ctx.done({"error": Message.error(f"tpl_ml_run_inference: `model` takes ONNX Bytes, not {model['type']}")})
                return
            try:
                ctx.state["session"] = Session(model["data"], ctx.config)
            except RuntimeError as exc:
                ctx.done({"error": Message.error(f"tpl_ml_run_inference: {exc}")})
                return
        message = inputs.get("input")
        if message is None:
            ctx.done()
            return
        session: Session | None = ctx.state.get("session")
        if session is None:
            ctx.done({"error": Message.error("tpl_ml_run_inference: no model: set `model` in the config or send "
                                             "ONNX bytes on the `model` port first")})
            return
        try:
            if message["type"] != "Object":
                raise TensorError(f"input: expected a tensor Object, got {message['type']}")
            results = session.run(session.output_names, session.feeds(message["data"]))
        except TensorError as exc:
            ctx.done({"error": Message.error(f"tpl_ml_run_inference: {exc}")})
            return
        except Exception as exc:  # onnxruntime's own errors (shape mismatches...)
            ctx.done({"error": Message.error(f"tpl_ml_run_inference: inference failed: {' '.join(str(exc).split())}")})
            return
        tensors = [Message.object(tensor_data(np().ascontiguousarray(r))) for r in results]
        ctx.done({
            "output": tensors[0],
            "outputs": Message.object(dict(zip(session.output_names, tensors, strict=True))),
        })


COMPONENTS = {"tpl_ml_run_inference": RunInference}
