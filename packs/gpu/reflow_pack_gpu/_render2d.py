"""``tpl_gpu_render_2d``: rectangles, circles, triangles, polygons and lines rendered offscreen to an image.

Shapes become triangles (circles: a fan of ``segments``) drawn by a render
pipeline into an ``rgba8unorm`` texture with alpha blending, then read back.
Coordinates are pixels, origin at the top left, y down; colours are
``[r, g, b]`` / ``[r, g, b, a]`` in 0..1 or ``"#rrggbb"`` / ``"#rrggbbaa"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reflow_cli import PortSpec

from ._gpu import Gpu, GpuActor, GpuError, error_port, image_output, schema, wgpu
from reflow_cli.tensors import np

__all__ = ["COMPONENTS", "colour", "triangles"]

_SHADER = """
struct Viewport { size: vec2<f32>, pad: vec2<f32> }
@group(0) @binding(0) var<uniform> viewport: Viewport;

struct VertexOut { @builtin(position) position: vec4<f32>, @location(0) colour: vec4<f32> }

@vertex
fn vs_main(@location(0) position: vec2<f32>, @location(1) colour: vec4<f32>) -> VertexOut {
    var out: VertexOut;
    out.position = vec4<f32>(position.x / viewport.size.x * 2.0 - 1.0, 1.0 - position.y / viewport.size.y * 2.0, 0.0, 1.0);
    out.colour = colour;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return in.colour;
}
"""

SHAPE_TYPES = ("rect", "circle", "triangle", "polygon", "line")


def colour(value: Any, where: str = "color") -> tuple[float, float, float, float]:
    """``(r, g, b, a)`` in 0..1 from ``[r, g, b(, a)]`` or ``"#rrggbb(aa)"``."""
    if isinstance(value, str) and value.startswith("#") and len(value) in (7, 9):
        try:
            parts = [int(value[i:i + 2], 16) / 255 for i in range(1, len(value), 2)]
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a #rrggbb colour") from None
        return (parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else 1.0)
    if isinstance(value, (list, tuple)) and len(value) in (3, 4) and all(isinstance(v, (int, float)) for v in value):
        return (float(value[0]), float(value[1]), float(value[2]), float(value[3]) if len(value) == 4 else 1.0)
    raise ValueError(f"{where}: a colour is [r, g, b], [r, g, b, a] (0..1) or '#rrggbb', not {value!r}")


def _point(value: Any, where: str) -> tuple[float, float]:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
        return float(value[0]), float(value[1])
    raise ValueError(f"{where}: a point is [x, y], not {value!r}")


def _number(shape: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = shape.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(f"{where}: `{key}` must be a number, not {value!r}")
    return float(value)


def triangles(shapes: list[Any]) -> list[tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, ...]]]:
    """The triangles (three points and a colour) the shapes are drawn with, in order."""
    out = []
    for index, shape in enumerate(shapes):
        where = f"shapes[{index}]"
        if not isinstance(shape, Mapping) or shape.get("type") not in SHAPE_TYPES:
            raise ValueError(f"{where}: a shape is an object with `type` one of {', '.join(SHAPE_TYPES)}")
        kind = shape["type"]
        rgba = colour(shape.get("color", [1, 1, 1]), f"{where}.color")
        if kind == "rect":
            x, y = _number(shape, "x", where), _number(shape, "y", where)
            w, h = _number(shape, "width", where), _number(shape, "height", where)
            a, b, c, d = (x, y), (x + w, y), (x + w, y + h), (x, y + h)
            out += [(a, b, c, rgba), (a, c, d, rgba)]
        elif kind == "circle":
            cx, cy = _point(shape.get("center"), f"{where}.center")
            radius = _number(shape, "radius", where)
            segments = int(_number(shape, "segments", where, 64))
            if segments < 3:
                raise ValueError(f"{where}: a circle needs at least 3 segments")
            ring = [(cx + radius * math.cos(2 * math.pi * k / segments), cy + radius * math.sin(2 * math.pi * k / segments))
                    for k in range(segments)]
            out += [((cx, cy), ring[k], ring[(k + 1) % segments], rgba) for k in range(segments)]
        elif kind in ("triangle", "polygon"):
            points = shape.get("points")
            if not isinstance(points, list) or len(points) < 3 or (kind == "triangle" and len(points) != 3):
                raise ValueError(f"{where}: a {kind} needs {'3' if kind == 'triangle' else 'at least 3'} points")
            pts = [_point(p, f"{where}.points") for p in points]
            out += [(pts[0], pts[k], pts[k + 1], rgba) for k in range(1, len(pts) - 1)]  # convex polygons: a fan
        else:  # line
            (x0, y0), (x1, y1) = _point(shape.get("from"), f"{where}.from"), _point(shape.get("to"), f"{where}.to")
            width = _number(shape, "width", where, 1.0)
            length = math.hypot(x1 - x0, y1 - y0) or 1.0
            nx, ny = -(y1 - y0) / length * width / 2, (x1 - x0) / length * width / 2
            a, b, c, d = (x0 + nx, y0 + ny), (x1 + nx, y1 + ny), (x1 - nx, y1 - ny), (x0 - nx, y0 - ny)
            out += [(a, b, c, rgba), (a, c, d, rgba)]
    return out


class Render2D(GpuActor):
    """Renders 2D shapes offscreen to an image."""

    component = "tpl_gpu_render_2d"
    inports = [PortSpec("scene", None, "{shapes: [...], width?, height?, background?} (or just the list of shapes)")]
    outports = [PortSpec("image", "Object", "the picture, a uint8 [H, W, 4] image tensor"),
                PortSpec("png", "Bytes", "the picture as PNG (with `png: true`, the default)", optional=True),
                error_port("a malformed scene")]
    config_schema = schema({
        "width": {"type": "integer", "minimum": 1, "maximum": 8192, "default": 256, "description": "Image width (a scene's `width` wins)."},
        "height": {"type": "integer", "minimum": 1, "maximum": 8192, "default": 256, "description": "Image height (a scene's `height` wins)."},
        "background": {"default": [0, 0, 0, 1], "description": "Clear colour: [r, g, b(, a)] in 0..1 or '#rrggbb'."},
        "png": {"type": "boolean", "default": True, "description": "Also send the picture as PNG bytes on `png`."},
    })
    description = (
        "Draws `shapes` in order with alpha blending into an offscreen texture and reads it back: rect {x, y, width, "
        "height}, circle {center, radius, segments}, triangle/polygon {points} (convex), line {from, to, width}; each "
        "with a `color`. Pixels, origin top left."
    )
    example = {
        "config": {"width": 2, "height": 1, "png": False},
        "inputs": {"scene": [{"type": "Object", "data": {"shapes": [{"type": "rect", "x": 1, "y": 0, "width": 1,
                                                                       "height": 1, "color": [1, 0, 0]}]}}]},
        "outputs": {"image": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 2, 4], "data": {
            "type": "Bytes", "data": [0, 0, 0, 255, 255, 0, 0, 255]}}}]},
    }

    def _pipeline(self, gpu: Gpu) -> Any:
        pipeline = gpu.pipelines.get("render_2d")
        if pipeline is None:
            module = wgpu()
            shader = gpu.device.create_shader_module(code=_SHADER)
            pipeline = gpu.device.create_render_pipeline(
                layout="auto",
                vertex={"module": shader, "entry_point": "vs_main", "buffers": [{
                    "array_stride": 24,
                    "step_mode": module.VertexStepMode.vertex,
                    "attributes": [
                        {"format": module.VertexFormat.float32x2, "offset": 0, "shader_location": 0},
                        {"format": module.VertexFormat.float32x4, "offset": 8, "shader_location": 1},
                    ],
                }]},
                primitive={"topology": module.PrimitiveTopology.triangle_list, "cull_mode": module.CullMode.none},
                depth_stencil=None,
                multisample=None,
                fragment={"module": shader, "entry_point": "fs_main", "targets": [{
                    "format": module.TextureFormat.rgba8unorm,
                    "blend": {
                        "color": {"src_factor": module.BlendFactor.src_alpha,
                                  "dst_factor": module.BlendFactor.one_minus_src_alpha,
                                  "operation": module.BlendOperation.add},
                        "alpha": {"src_factor": module.BlendFactor.one,
                                  "dst_factor": module.BlendFactor.one_minus_src_alpha,
                                  "operation": module.BlendOperation.add},
                    },
                }]},
            )
            gpu.pipelines["render_2d"] = pipeline
        return pipeline

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        numpy = np()
        module = wgpu()
        config = ctx.config
        scene = ctx.inputs["scene"]["data"]
        if isinstance(scene, list):
            scene = {"shapes": scene}
        if not isinstance(scene, Mapping) or not isinstance(scene.get("shapes"), list):
            raise ValueError("scene: expected {shapes: [...]} or a list of shapes")
        width = int(scene.get("width", config["width"]))
        height = int(scene.get("height", config["height"]))
        if not (1 <= width <= 8192 and 1 <= height <= 8192):
            raise ValueError(f"scene: {width}x{height} is not a size between 1 and 8192")
        background = colour(scene.get("background", config["background"]), "background")
        tris = triangles(list(scene["shapes"]))
        device = gpu.device
        texture = device.create_texture(
            size=(width, height, 1), format=module.TextureFormat.rgba8unorm,
            usage=module.TextureUsage.RENDER_ATTACHMENT | module.TextureUsage.COPY_SRC,
        )
        encoder = device.create_command_encoder()
        render = encoder.begin_render_pass(color_attachments=[{
            "view": texture.create_view(), "resolve_target": None,
            "clear_value": background, "load_op": module.LoadOp.clear, "store_op": module.StoreOp.store,
        }])
        if tris:
            pipeline = self._pipeline(gpu)
            vertices = numpy.array([[*p, *c] for a, b, c_, c in tris for p in (a, b, c_)], dtype=numpy.float32)
            buffer = device.create_buffer_with_data(data=vertices, usage=module.BufferUsage.VERTEX)
            bind_group = device.create_bind_group(layout=pipeline.get_bind_group_layout(0), entries=[
                {"binding": 0, "resource": {"buffer": gpu.uniform(numpy.array([width, height, 0, 0], dtype=numpy.float32))}},
            ])
            render.set_pipeline(pipeline)
            render.set_bind_group(0, bind_group)
            render.set_vertex_buffer(0, buffer)
            render.draw(len(vertices))
        render.end()
        device.queue.submit([encoder.finish()])
        row = (width * 4 + 255) // 256 * 256
        try:
            data = device.queue.read_texture({"texture": texture, "origin": (0, 0, 0), "mip_level": 0},
                                             {"offset": 0, "bytes_per_row": row, "rows_per_image": height},
                                             (width, height, 1))
        except Exception as exc:  # pragma: no cover - device errors
            raise GpuError(f"reading the picture back failed: {exc}") from None
        raw = numpy.frombuffer(bytes(data), dtype=numpy.uint8)
        stride = raw.size // height
        image = raw.reshape(height, stride)[:, : width * 4].reshape(height, width, 4)
        texture.destroy()
        return image_output(numpy.ascontiguousarray(image), config["png"])


COMPONENTS = {"tpl_gpu_render_2d": Render2D}

