"""WGSL compute over arrays (``tpl_gpu_compute``), matrix products (``tpl_gpu_matmul``), adapter facts (``tpl_gpu_info``)."""

from __future__ import annotations

from typing import Any

from reflow_cli import Message, PortSpec

from ._gpu import Gpu, GpuActor, error_port, groups_for, schema
from reflow_cli.tensors import TensorError, array_message, is_tensor, np, to_array

__all__ = ["COMPONENTS"]

_WGSL_TYPES = {"f32": "float32", "i32": "int32", "u32": "uint32"}

_EXPRESSION_SHADER = """
@group(0) @binding(0) var<storage, read> input: array<{T}>;
@group(0) @binding(1) var<storage, read_write> output: array<{T}>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {{
    let i = gid.y * (65535u * 64u) + gid.x;
    let n = arrayLength(&output);
    if (i >= n) {{ return; }}
    let m = {count}u;
    let x = input[min(i, m - 1u)];
    output[i] = {T}({expression});
}}
"""


class Compute(GpuActor):
    """Runs a WGSL compute shader over an array."""

    component = "tpl_gpu_compute"
    inports = [PortSpec("input", None, "an Array of numbers, or a tensor {dtype, shape, data}")]
    outports = [PortSpec("output", None, "the results, in the input's form (Array or tensor)"),
                error_port("bad input, or a shader that does not compile")]
    config_schema = schema({
        "expression": {"type": "string", "default": "x",
                       "description": "A WGSL expression per element: `x` (the element), `i` (its index, u32), "
                       "`n` (the output length, u32), `m` (the input length). Ignored when `shader` is set."},
        "shader": {"type": "string", "default": "",
                   "description": "A whole WGSL module instead: `main` with @workgroup_size(64), group 0 binding 0 "
                   "(input, read) and binding 1 (output, read_write) arrays; element i = gid.y*65535*64 + gid.x."},
        "dtype": {"type": "string", "enum": ["f32", "i32", "u32"], "default": "f32",
                  "description": "The WGSL element type; the input is cast to it."},
        "output_length": {"type": "integer", "minimum": 0, "default": 0,
                          "description": "Elements in the output (0: as many as the input)."},
    })
    description = "Runs WGSL over every element of an Array or tensor on the GPU: `expression` (such as `x * 2.0 + 1.0`) or a whole `shader`."
    example = {
        "config": {"expression": "x * x + f32(i)"},
        "inputs": {"input": [{"type": "Array", "data": [1, 2, 3]}]},
        "outputs": {"output": [{"type": "Array", "data": [1.0, 5.0, 11.0]}]},
    }

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        numpy = np()
        config = ctx.config
        message = ctx.inputs["input"]
        dtype = numpy.dtype(_WGSL_TYPES[config["dtype"]])
        if message["type"] == "Array":
            array = numpy.asarray(message["data"], dtype=dtype).reshape(-1)
            shape = None
        elif message["type"] == "Object" and is_tensor(message["data"]):
            source = to_array(message)
            shape = list(source.shape)
            array = source.astype(dtype).reshape(-1)
        else:
            raise TensorError(f"input: expected an Array of numbers or a tensor, got {message['type']}")
        count = config["output_length"] or array.size
        if count == 0 or array.size == 0:
            raise TensorError("input: nothing to compute on (an empty array)")
        code = config["shader"] or _EXPRESSION_SHADER.format(T=config["dtype"], expression=config["expression"],
                                                             count=array.size)
        pipeline = gpu.compute_pipeline(code)
        source_buffer = gpu.storage(array)
        output = gpu.output(count * 4)
        gpu.dispatch(pipeline, [source_buffer, output], groups_for(count))
        result = numpy.frombuffer(gpu.read(output, count * 4), dtype=dtype)
        if shape is not None:
            return {"output": array_message(result.reshape(shape) if count == array.size else result)}
        return {"output": Message.array(result.tolist())}


_MATMUL_SHADER = """
struct Dims { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let col = gid.x;
    if (row >= dims.m || col >= dims.n) { return; }
    var total = 0.0;
    for (var i = 0u; i < dims.k; i = i + 1u) {
        total = total + a[row * dims.k + i] * b[i * dims.n + col];
    }
    c[row * dims.n + col] = total;
}
"""


class MatMul(GpuActor):
    """Multiplies two matrices on the GPU."""

    component = "tpl_gpu_matmul"
    inports = [PortSpec("a", "Object", "a tensor [M, K] (or an Array of rows)"),
               PortSpec("b", "Object", "a tensor [K, N] (or an Array of rows)")]
    outports = [PortSpec("output", "Object", "the float32 tensor [M, N] = a × b"), error_port("shapes that do not fit")]
    await_all_inports = True
    config_schema = schema({})
    description = "a × b in float32 on the GPU (one invocation per output element); waits for a packet on both ports."
    example = {
        "config": {},
        "inputs": {"a": [{"type": "Array", "data": [[1, 2]]}], "b": [{"type": "Array", "data": [[3], [4]]}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "float32", "shape": [1, 1],
                                                          "data": {"type": "Bytes", "data": [0, 0, 48, 65]}}}]},
    }

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        numpy = np()
        a = to_array(ctx.inputs["a"], "a").astype(numpy.float32)
        b = to_array(ctx.inputs["b"], "b").astype(numpy.float32)
        if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
            raise TensorError(f"cannot multiply shapes {list(a.shape)} and {list(b.shape)}")
        m, k = a.shape
        n = b.shape[1]
        if m * n == 0:
            raise TensorError("an empty product")
        pipeline = gpu.compute_pipeline(_MATMUL_SHADER)
        c = gpu.output(m * n * 4)
        dims = gpu.uniform(numpy.array([m, n, k, 0], dtype=numpy.uint32))
        gpu.dispatch(pipeline, [gpu.storage(a), gpu.storage(b), c, dims], ((n + 7) // 8, (m + 7) // 8, 1))
        return {"output": array_message(numpy.frombuffer(gpu.read(c, m * n * 4), dtype=numpy.float32).reshape(m, n))}


class Info(GpuActor):
    """Describes the node's GPU adapter."""

    component = "tpl_gpu_info"
    inports = [PortSpec("trigger", None, "any packet")]
    outports = [PortSpec("output", "Object", "{vendor, device, description, adapter_type, backend_type, limits}"),
                error_port("not used")]
    config_schema = schema({})
    description = "On any packet, sends what wgpu says about the adapter this node uses (a CPU adapter reports adapter_type CPU)."

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        info = {key: value for key, value in gpu.info.items() if isinstance(value, (str, int, float, bool))}
        try:  # wgpu spells them max-compute-... (newer) or max_compute_... (older)
            limits = {k.replace("-", "_"): int(v) for k, v in dict(gpu.device.limits).items() if isinstance(v, int)}
        except (TypeError, ValueError):  # pragma: no cover
            limits = {}
        info["limits"] = {k: limits[k] for k in sorted(limits)
                          if k.startswith(("max_compute", "max_texture_dimension_2d", "max_storage_buffer_binding"))}
        return {"output": Message.object(info)}


COMPONENTS = {"tpl_gpu_compute": Compute, "tpl_gpu_matmul": MatMul, "tpl_gpu_info": Info}
