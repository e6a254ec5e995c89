"""GPU image filters: a separable gaussian blur and colour adjustments, on image tensors."""

from __future__ import annotations

import math
from typing import Any

from reflow_cli import PortSpec

from ._gpu import (
    IMAGE,
    Gpu,
    GpuActor,
    error_port,
    from_rgba,
    groups_for,
    image_array,
    image_output,
    schema,
    to_rgba,
)
from reflow_cli.tensors import np

__all__ = ["COMPONENTS", "gaussian_weights"]

_BLUR_SHADER = """
struct Params { width: u32, height: u32, radius: u32, horizontal: u32 }
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> weights: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.y * (65535u * 64u) + gid.x;
    if (index >= params.width * params.height) { return; }
    let x = i32(index % params.width);
    let y = i32(index / params.width);
    let r = i32(params.radius);
    var total = vec4<f32>(0.0);
    for (var k = -r; k <= r; k = k + 1) {
        var sx = x;
        var sy = y;
        if (params.horizontal == 1u) {
            sx = clamp(x + k, 0, i32(params.width) - 1);
        } else {
            sy = clamp(y + k, 0, i32(params.height) - 1);
        }
        total = total + weights[u32(k + r)] * src[u32(sy) * params.width + u32(sx)];
    }
    dst[index] = total;
}
"""

_PACK_SHADER = """
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.y * (65535u * 64u) + gid.x;
    if (index >= arrayLength(&dst)) { return; }
    dst[index] = pack4x8unorm(src[index]);
}
"""


def gaussian_weights(sigma: float, radius: int) -> Any:
    """Normalised gaussian weights for offsets −radius..radius (float32)."""
    numpy = np()
    offsets = numpy.arange(-radius, radius + 1, dtype=numpy.float64)
    weights = numpy.exp(-(offsets**2) / (2 * sigma * sigma))
    return (weights / weights.sum()).astype(numpy.float32)


class GaussianBlur(GpuActor):
    """Blurs an image with a gaussian kernel on the GPU."""

    component = "tpl_gpu_gaussian_blur"
    inports = [PortSpec("input", "Object", IMAGE)]
    outports = [PortSpec("image", "Object", "the blurred image (same shape)"),
                PortSpec("png", "Bytes", "the blurred image as PNG (with `png: true`)", optional=True),
                error_port("not an image")]
    config_schema = schema({
        "sigma": {"type": "number", "exclusiveMinimum": 0, "default": 2.0, "description": "Standard deviation in pixels."},
        "radius": {"type": "integer", "minimum": 0, "default": 0,
                   "description": "Kernel half-width in pixels (0: ceil(3 × sigma))."},
        "png": {"type": "boolean", "default": False, "description": "Also send the result as PNG bytes on `png`."},
    })
    description = "Separable gaussian blur (a horizontal then a vertical pass, edges clamped) computed on the GPU in float32; the result is rounded back to uint8."
    example = {
        "config": {"sigma": 1.0, "radius": 1},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 3, 1], "data": [0, 255, 0]}}]},
        "outputs": {"image": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 3, 1],
                                                         "data": {"type": "Bytes", "data": [70, 115, 70]}}}]},
    }

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        numpy = np()
        image = image_array(ctx.inputs["input"])
        h, w, c = image.shape
        sigma = float(ctx.config["sigma"])
        radius = ctx.config["radius"] or math.ceil(3 * sigma)
        pixels = to_rgba(image).astype(numpy.float32) / 255.0
        count = h * w
        blur = gpu.compute_pipeline(_BLUR_SHADER)
        pack = gpu.compute_pipeline(_PACK_SHADER)
        weights = gpu.storage(gaussian_weights(sigma, radius))
        src = gpu.storage(pixels)
        tmp = gpu.output(count * 16)
        out = gpu.output(count * 16)
        packed = gpu.output(count * 4)
        groups = groups_for(count)
        for horizontal, source, target in ((1, src, tmp), (0, tmp, out)):
            params = gpu.uniform(numpy.array([w, h, radius, horizontal], dtype=numpy.uint32))
            gpu.dispatch(blur, [source, target, weights, params], groups)
        gpu.dispatch(pack, [out, packed], groups)
        rgba = numpy.frombuffer(gpu.read(packed, count * 4), dtype=numpy.uint8).reshape(h, w, 4)
        return image_output(from_rgba(rgba, c), ctx.config["png"])


_ADJUST_SHADER = """
struct Params { brightness: f32, contrast: f32, saturation: f32, gamma: f32, invert: f32, count: u32, p1: f32, p2: f32 }
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let index = gid.y * (65535u * 64u) + gid.x;
    if (index >= params.count) { return; }
    let pixel = unpack4x8unorm(src[index]);
    var c = (pixel.rgb - vec3<f32>(0.5)) * params.contrast + vec3<f32>(0.5 + params.brightness);
    let luma = dot(c, vec3<f32>(0.299, 0.587, 0.114));
    c = mix(vec3<f32>(luma), c, params.saturation);
    c = pow(clamp(c, vec3<f32>(0.0), vec3<f32>(1.0)), vec3<f32>(1.0 / params.gamma));
    c = mix(c, vec3<f32>(1.0) - c, params.invert);
    dst[index] = pack4x8unorm(vec4<f32>(c, pixel.a));
}
"""


class ColorAdjust(GpuActor):
    """Adjusts brightness, contrast, saturation and gamma of an image on the GPU."""

    component = "tpl_gpu_color_adjust"
    inports = [PortSpec("input", "Object", IMAGE)]
    outports = [PortSpec("image", "Object", "the adjusted image (same shape)"),
                PortSpec("png", "Bytes", "the adjusted image as PNG (with `png: true`)", optional=True),
                error_port("not an image")]
    config_schema = schema({
        "brightness": {"type": "number", "default": 0.0, "description": "Added to every channel (−1..1)."},
        "contrast": {"type": "number", "minimum": 0, "default": 1.0, "description": "Scales the distance from mid-grey."},
        "saturation": {"type": "number", "minimum": 0, "default": 1.0, "description": "0 is grey, 1 unchanged, >1 more vivid."},
        "gamma": {"type": "number", "exclusiveMinimum": 0, "default": 1.0, "description": "Output = input^(1/gamma)."},
        "invert": {"type": "boolean", "default": False, "description": "Invert the colours (alpha is kept)."},
        "png": {"type": "boolean", "default": False, "description": "Also send the result as PNG bytes on `png`."},
    })
    description = "Per-pixel colour adjustment on the GPU, in this order: contrast around mid-grey and brightness, saturation, gamma, inversion; alpha is kept."
    example = {
        "config": {"invert": True},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 3], "data": [0, 128, 255]}}]},
        "outputs": {"image": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 3],
                                                         "data": {"type": "Bytes", "data": [255, 127, 0]}}}]},
    }

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        numpy = np()
        config = ctx.config
        image = image_array(ctx.inputs["input"])
        h, w, c = image.shape
        count = h * w
        rgba = to_rgba(image)
        params = numpy.zeros(8, dtype=numpy.float32)
        params[:5] = [config["brightness"], config["contrast"], config["saturation"], config["gamma"],
                      1.0 if config["invert"] else 0.0]
        params.view(numpy.uint32)[5] = count
        out = gpu.output(count * 4)
        gpu.dispatch(gpu.compute_pipeline(_ADJUST_SHADER), [gpu.storage(rgba), out, gpu.uniform(params)],
                     groups_for(count))
        result = numpy.frombuffer(gpu.read(out, count * 4), dtype=numpy.uint8).reshape(h, w, 4)
        return image_output(from_rgba(result, c), config["png"])


COMPONENTS = {"tpl_gpu_gaussian_blur": GaussianBlur, "tpl_gpu_color_adjust": ColorAdjust}
