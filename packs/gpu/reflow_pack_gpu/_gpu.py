"""One wgpu device per node, and what every gpu actor shares (buffers in and out, errors as packets).

``GpuActor.setup`` opens an adapter and a device for its node and
``teardown`` destroys it, so nodes never share GPU state. Ticks run in a
worker thread (``threaded``): submitting work and reading results back block.
wgpu is imported in ``setup``, so loading the pack (and validating specs)
does not need it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from reflow_cli import Actor, Message, PortSpec

from reflow_cli.tensors import TensorError, array_message, np, to_array

__all__ = ["Gpu", "GpuActor", "GpuError", "error_port", "image_array", "image_output", "schema", "wgpu"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
IMAGE = "an image tensor uint8 [H, W, C] (C = 1, 3 or 4)"


class GpuError(RuntimeError):
    """A GPU step failed (no adapter, a shader that does not compile, a device error)."""


def wgpu() -> Any:
    """wgpu, imported on first use (with a helpful message when it is missing)."""
    try:
        import wgpu as module
    except ImportError:
        raise GpuError("the gpu pack needs wgpu-py: pip install wgpu (or 'reflow-cli[gpu]'), or install a bundle "
                       "of the gpu pack built with --platform for this machine") from None
    return module


def schema(properties: Mapping[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    """A config JSON Schema (2020-12); every gpu actor also takes ``power_preference``."""
    out: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            **properties,
            "power_preference": {"type": "string", "enum": ["high-performance", "low-power"],
                                 "default": "high-performance", "description": "Which adapter wgpu should prefer."},
        },
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    return out


def error_port(what: str) -> PortSpec:
    """The ``error`` outport (bad input and GPU failures go there as Error packets)."""
    return PortSpec("error", "Error", what)


class Gpu:
    """An adapter, its device and its queue, plus compiled pipelines cached by their source."""

    def __init__(self, power_preference: str = "high-performance") -> None:
        module = wgpu()
        adapter = module.gpu.request_adapter_sync(power_preference=power_preference)
        if adapter is None:
            raise GpuError("wgpu found no GPU adapter; on Linux without a GPU, Mesa's CPU drivers give one "
                           "(Debian: apt-get install mesa-vulkan-drivers libvulkan1)")
        self.adapter = adapter
        self.device = adapter.request_device_sync()
        self.queue = self.device.queue
        self.info = dict(adapter.info)
        self.pipelines: dict[Any, Any] = {}
        self.lock = threading.Lock()  # a device is used by one tick at a time

    def compute_pipeline(self, code: str, entry_point: str = "main") -> Any:
        """A compute pipeline for WGSL ``code`` (compiled once per node and source)."""
        key = ("compute", code, entry_point)
        pipeline = self.pipelines.get(key)
        if pipeline is None:
            try:
                module = self.device.create_shader_module(code=code)
                pipeline = self.device.create_compute_pipeline(layout="auto", compute={"module": module,
                                                                                        "entry_point": entry_point})
            except Exception as exc:  # wgpu's validation errors
                raise GpuError(f"the WGSL shader does not compile: {_first_lines(exc)}") from None
            self.pipelines[key] = pipeline
        return pipeline

    def storage(self, data: Any, *, writable: bool = False) -> Any:
        """A storage buffer holding ``data`` (bytes or an array)."""
        module = wgpu()
        usage = module.BufferUsage.STORAGE | module.BufferUsage.COPY_DST
        if writable:
            usage |= module.BufferUsage.COPY_SRC
        array = np().ascontiguousarray(data)
        if array.nbytes == 0:
            array = np().zeros(4, dtype=np().uint8)
        return self.device.create_buffer_with_data(data=_padded(array), usage=usage)

    def output(self, size: int) -> Any:
        """A writable storage buffer of ``size`` bytes that can be read back."""
        module = wgpu()
        usage = module.BufferUsage.STORAGE | module.BufferUsage.COPY_SRC
        return self.device.create_buffer(size=max(4, (size + 3) // 4 * 4), usage=usage)

    def uniform(self, data: Any) -> Any:
        """A uniform buffer holding ``data`` (padded to 16 bytes)."""
        module = wgpu()
        array = np().ascontiguousarray(data)
        padded = np().zeros(max(16, (array.nbytes + 15) // 16 * 16), dtype=np().uint8)
        padded[: array.nbytes] = array.view(np().uint8).reshape(-1)
        return self.device.create_buffer_with_data(data=padded, usage=module.BufferUsage.UNIFORM)

    def dispatch(self, pipeline: Any, buffers: list[Any], groups: tuple[int, int, int]) -> None:
        """Bind ``buffers`` to bindings 0, 1, ... of group 0 and run ``groups`` workgroups."""
        bind_group = self.device.create_bind_group(
            layout=pipeline.get_bind_group_layout(0),
            entries=[{"binding": i, "resource": {"buffer": b}} for i, b in enumerate(buffers)],
        )
        encoder = self.device.create_command_encoder()
        compute = encoder.begin_compute_pass()
        compute.set_pipeline(pipeline)
        compute.set_bind_group(0, bind_group)
        compute.dispatch_workgroups(*groups)
        compute.end()
        self.queue.submit([encoder.finish()])

    def read(self, buffer: Any, size: int) -> bytes:
        """The first ``size`` bytes of ``buffer``, after the queued work is done."""
        return bytes(self.queue.read_buffer(buffer))[:size]

    def close(self) -> None:
        """Destroy the device."""
        self.pipelines.clear()
        self.device.destroy()


def _padded(array: Any) -> Any:
    raw = array.view(np().uint8).reshape(-1)
    if raw.size % 4 == 0:
        return raw
    out = np().zeros((raw.size + 3) // 4 * 4, dtype=np().uint8)
    out[: raw.size] = raw
    return out


def _first_lines(exc: BaseException, count: int = 6) -> str:
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " | ".join(line.strip() for line in lines[:count]) or type(exc).__name__


def groups_for(count: int, size: int = 64) -> tuple[int, int, int]:
    """Workgroups covering ``count`` invocations of ``size``: (x, y, 1) with x ≤ 65535 (index = y·65535·size + x)."""
    total = max(1, (count + size - 1) // size)
    if total <= 65535:
        return total, 1, 1
    return 65535, (total + 65534) // 65535, 1


def image_array(message: Message, what: str = "input") -> Any:
    """An image tensor as uint8 [H, W, C] (C = 1, 3 or 4); [H, W] counts as grey."""
    array = to_array(message, what)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 3, 4):
        raise TensorError(f"{what}: an image is [H, W, C] with C = 1, 3 or 4, not shape {list(array.shape)}")
    if array.dtype != np().uint8:
        raise TensorError(f"{what}: an image holds uint8 pixels, not {array.dtype.name}")
    return array


def to_rgba(image: Any) -> Any:
    """[H, W, 4] uint8 of a [H, W, 1|3|4] image (grey repeated; alpha 255 when absent)."""
    numpy = np()
    h, w, c = image.shape
    if c == 4:
        return numpy.ascontiguousarray(image)
    out = numpy.empty((h, w, 4), dtype=numpy.uint8)
    out[:, :, :3] = image if c == 3 else numpy.repeat(image, 3, axis=2)
    out[:, :, 3] = 255
    return out


def from_rgba(rgba: Any, channels: int) -> Any:
    """Back to the input's channels (grey keeps the red channel)."""
    if channels == 4:
        return rgba
    return np().ascontiguousarray(rgba[:, :, :channels] if channels == 3 else rgba[:, :, :1])


def image_output(image: Any, png: bool) -> dict[str, Message]:
    """``{"image": tensor}`` plus ``{"png": Bytes}`` when asked."""
    from ._png import encode_png

    out = {"image": array_message(image)}
    if png:
        out["png"] = Message.bytes(encode_png(image))
    return out


class GpuActor(Actor):
    """A gpu pack actor: a device per node, ticks in a worker thread, failures as ``error`` packets."""

    threaded = True

    def setup(self, ctx: Any) -> None:
        """Open this node's adapter and device."""
        ctx.state["gpu"] = Gpu(ctx.config.get("power_preference", "high-performance"))

    def teardown(self, ctx: Any) -> None:
        """Destroy this node's device."""
        gpu = ctx.state.pop("gpu", None)
        if gpu is not None:
            gpu.close()

    def run(self, ctx: Any) -> None:
        gpu: Gpu = ctx.state["gpu"]
        try:
            with gpu.lock:
                outputs = self.process(gpu, ctx)
        except (TensorError, GpuError, ValueError) as exc:
            ctx.done({"error": Message.error(f"{self.component}: {exc}")})
            return
        ctx.done(outputs)

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        """Outputs for one tick (override)."""
        raise NotImplementedError
