"""``tpl_gpu_sdf_render``: a signed-distance-field raymarcher rendering scenes to PNG on the GPU.

A scene is a tree: primitives (``sphere``, ``box``, ``torus``, ``plane``) and
combinations (``union``, ``smooth_union``, ``subtract``, ``intersect``), each
with an optional transform (``position``, ``rotation`` in degrees about X,
then Y, then Z, uniform ``scale``) and a ``color``. The top-level ``objects``
are a union. Axes: x right, y up, z forward (into the picture, from the
default camera at ``[0, 1, -5]`` looking at the origin).

The scene's *structure* becomes WGSL (a ``map(p)`` function); every number
(positions, sizes, colours, the camera) goes into a parameter buffer. A node
compiles one pipeline per structure, so animating a scene (same objects,
new numbers) renders without recompiling.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from reflow_cli import Message, PortSpec

from ._gpu import Gpu, GpuActor, error_port, schema
from ._png import encode_png
from reflow_cli.tensors import array_message, np

__all__ = ["COMPONENTS", "compile_scene", "rotation_matrix"]

PRIMITIVES = ("sphere", "box", "torus", "plane")
COMBINATIONS = ("union", "smooth_union", "subtract", "intersect")
MAX_NODES = 256
#: parameter slots before the scene's own: camera, light, background, size, limits
HEADER = 26

_PRELUDE = """
@group(0) @binding(0) var<storage, read_write> pixels: array<u32>;
@group(0) @binding(1) var<storage, read> P: array<f32>;

fn local(p: vec3<f32>, b: u32) -> vec3<f32> {
    let v = p - vec3<f32>(P[b], P[b + 1u], P[b + 2u]);
    let r = vec3<f32>(
        dot(vec3<f32>(P[b + 3u], P[b + 4u], P[b + 5u]), v),
        dot(vec3<f32>(P[b + 6u], P[b + 7u], P[b + 8u]), v),
        dot(vec3<f32>(P[b + 9u], P[b + 10u], P[b + 11u]), v));
    return r / P[b + 12u];
}

fn sd_sphere(q: vec3<f32>, r: f32) -> f32 { return length(q) - r; }

fn sd_box(q: vec3<f32>, half_size: vec3<f32>) -> f32 {
    let d = abs(q) - half_size;
    return length(max(d, vec3<f32>(0.0))) + min(max(d.x, max(d.y, d.z)), 0.0);
}

fn sd_torus(q: vec3<f32>, radius: f32, thickness: f32) -> f32 {
    let ring = vec2<f32>(length(q.xz) - radius, q.y);
    return length(ring) - thickness;
}

fn op_union(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
    if (b.x < a.x) { return b; }
    return a;
}

fn op_smooth_union(a: vec4<f32>, b: vec4<f32>, k: f32) -> vec4<f32> {
    let h = clamp(0.5 + 0.5 * (b.x - a.x) / k, 0.0, 1.0);
    let d = mix(b.x, a.x, h) - k * h * (1.0 - h);
    return vec4<f32>(d, mix(b.yzw, a.yzw, h));
}

fn op_subtract(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(max(a.x, -b.x), a.yzw); }

fn op_intersect(a: vec4<f32>, b: vec4<f32>) -> vec4<f32> { return vec4<f32>(max(a.x, b.x), a.yzw); }
"""

_MAIN = """
fn v3(b: u32) -> vec3<f32> { return vec3<f32>(P[b], P[b + 1u], P[b + 2u]); }

fn normal_at(p: vec3<f32>) -> vec3<f32> {
    let e = vec2<f32>(0.001, 0.0);
    return normalize(vec3<f32>(
        map(p + e.xyy).x - map(p - e.xyy).x,
        map(p + e.yxy).x - map(p - e.yxy).x,
        map(p + e.yyx).x - map(p - e.yyx).x));
}

@compute @workgroup_size(8, 8)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let width = u32(P[20]);
    let height = u32(P[21]);
    if (gid.x >= width || gid.y >= height) { return; }
    let aspect = P[20] / P[21];
    let sx = (2.0 * (f32(gid.x) + 0.5) / P[20] - 1.0) * aspect * P[12];
    let sy = (1.0 - 2.0 * (f32(gid.y) + 0.5) / P[21]) * P[12];
    let origin = v3(0u);
    let direction = normalize(v3(3u) + sx * v3(6u) + sy * v3(9u));
    let steps = u32(P[24]);
    var t = 0.0;
    var hit = false;
    var res = vec4<f32>(0.0);
    for (var i = 0u; i < steps; i = i + 1u) {
        res = map(origin + direction * t);
        if (res.x < P[23]) { hit = true; break; }
        t = t + res.x;
        if (t > P[22]) { break; }
    }
    var colour = v3(17u);
    if (hit) {
        let n = normal_at(origin + direction * t);
        let diffuse = max(dot(n, v3(13u)), 0.0);
        colour = res.yzw * (P[16] + (1.0 - P[16]) * diffuse);
    }
    pixels[gid.y * width + gid.x] = pack4x8unorm(vec4<f32>(colour, 1.0));
}
"""


def _vec3(value: Any, where: str, default: tuple[float, float, float] | None = None) -> list[float]:
    if value is None and default is not None:
        return list(default)
    if isinstance(value, (list, tuple)) and len(value) == 3 and all(_finite(v) for v in value):
        return [float(v) for v in value]
    raise ValueError(f"{where}: expected [x, y, z] (three numbers), not {value!r}")


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(node: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = node.get(key, default)
    if not _finite(value) or value <= 0:
        raise ValueError(f"{where}: `{key}` must be a positive number, not {value!r}")
    return float(value)


def rotation_matrix(degrees: list[float]) -> Any:
    """R = Rz · Ry · Rx for rotations in degrees about X, then Y, then Z (float64 3×3)."""
    numpy = np()
    ax, ay, az = (math.radians(v) for v in degrees)
    cx, sx, cy, sy, cz, sz = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay), math.cos(az), math.sin(az)
    rx = numpy.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = numpy.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = numpy.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


class _Codegen:
    def __init__(self) -> None:
        self.params: list[float] = []
        self.lines: list[str] = []
        self.count = 0

    def slot(self, *values: float) -> int:
        index = HEADER + len(self.params)
        self.params.extend(float(v) for v in values)
        return index

    def transform(self, node: Mapping[str, Any], where: str) -> int:
        position = _vec3(node.get("position"), f"{where}.position", (0.0, 0.0, 0.0))
        rotation = _vec3(node.get("rotation"), f"{where}.rotation", (0.0, 0.0, 0.0))
        scale = _positive(node, "scale", where, 1.0)
        inverse = rotation_matrix(rotation).T  # local = Rᵀ (p − t) / s
        return self.slot(*position, *inverse.reshape(-1).tolist(), scale)

    def node(self, node: Any, point: str, where: str) -> str:
        if not isinstance(node, Mapping) or node.get("type") not in PRIMITIVES + COMBINATIONS:
            raise ValueError(f"{where}: an object has `type` one of {', '.join(PRIMITIVES + COMBINATIONS)}")
        self.count += 1
        if self.count > MAX_NODES:
            raise ValueError(f"the scene has more than {MAX_NODES} objects")
        n = self.count
        kind = node["type"]
        b = self.transform(node, where)
        q = f"q{n}"
        self.lines.append(f"    let {q} = local({point}, {b}u);")
        if kind in PRIMITIVES:
            colour = _vec3(node.get("color"), f"{where}.color", (0.8, 0.8, 0.8))
            if kind == "sphere":
                d = f"sd_sphere({q}, P[{self.slot(_positive(node, 'radius', where, 1.0))}])"
            elif kind == "box":
                size = _vec3(node.get("size"), f"{where}.size", (1.0, 1.0, 1.0))
                if min(size) <= 0:
                    raise ValueError(f"{where}: a box's `size` must be positive")
                h = self.slot(*(v / 2 for v in size))
                d = f"sd_box({q}, vec3<f32>(P[{h}], P[{h + 1}], P[{h + 2}]))"
            elif kind == "torus":
                radius, thickness = _positive(node, "radius", where, 1.0), _positive(node, "thickness", where, 0.25)
                k = self.slot(radius, thickness)
                d = f"sd_torus({q}, P[{k}], P[{k + 1}])"
            else:
                d = f"{q}.y"
            c = self.slot(*colour)
            self.lines.append(f"    let r{n} = vec4<f32>({d} * P[{b + 12}], P[{c}], P[{c + 1}], P[{c + 2}]);")
            return f"r{n}"
        children = node.get("children")
        if not isinstance(children, list) or not children:
            raise ValueError(f"{where}: a {kind} needs a non-empty list of `children`")
        names = [self.node(child, q, f"{where}.children[{i}]") for i, child in enumerate(children)]
        acc = names[0]
        k = self.slot(_positive(node, "k", where, 0.25)) if kind == "smooth_union" else None
        for i, name in enumerate(names[1:], 1):
            combined = f"c{n}_{i}"
            call = f"op_{kind}({acc}, {name}, P[{k}])" if k is not None else f"op_{kind}({acc}, {name})"
            self.lines.append(f"    let {combined} = {call};")
            acc = combined
        self.lines.append(f"    let r{n} = vec4<f32>({acc}.x * P[{b + 12}], {acc}.yzw);")
        return f"r{n}"


def compile_scene(scene: Mapping[str, Any], config: Mapping[str, Any]) -> tuple[str, Any, int, int]:
    """``(wgsl, params float32, width, height)`` for a scene: the structure as code, every number as a parameter."""
    numpy = np()
    if not isinstance(scene, Mapping):
        raise ValueError("scene: expected an object with `objects` (and camera, light, background)")
    objects = scene.get("objects")
    if not isinstance(objects, list) or not objects:
        raise ValueError("scene: `objects` must be a non-empty list")
    width = int(scene.get("width", config["width"]))
    height = int(scene.get("height", config["height"]))
    if not (1 <= width <= 8192 and 1 <= height <= 8192):
        raise ValueError(f"scene: {width}x{height} is not a size between 1 and 8192")
    camera = scene.get("camera") or {}
    light = scene.get("light") or {}
    if not isinstance(camera, Mapping) or not isinstance(light, Mapping):
        raise ValueError("scene: `camera` and `light` are objects")
    position = numpy.array(_vec3(camera.get("position"), "camera.position", (0.0, 1.0, -5.0)))
    target = numpy.array(_vec3(camera.get("target"), "camera.target", (0.0, 0.0, 0.0)))
    fov = _positive(camera, "fov", "camera", 45.0)
    forward = target - position
    if not numpy.linalg.norm(forward):
        raise ValueError("camera: `position` and `target` are the same point")
    forward /= numpy.linalg.norm(forward)
    # x right, y up, z forward into the picture (as in Unity): +x shows on the right from the default camera
    right = numpy.cross([0.0, 1.0, 0.0], forward)
    if numpy.linalg.norm(right) < 1e-9:  # looking straight up or down
        right = numpy.array([1.0, 0.0, 0.0])
    right /= numpy.linalg.norm(right)
    up = numpy.cross(forward, right)
    direction = numpy.array(_vec3(light.get("direction"), "light.direction", (-0.5, 1.0, -0.6)))
    if not numpy.linalg.norm(direction):
        raise ValueError("light: `direction` must not be zero")
    direction /= numpy.linalg.norm(direction)
    ambient = light.get("ambient", 0.15)
    if not _finite(ambient) or not 0 <= ambient <= 1:
        raise ValueError(f"light: `ambient` is a number in 0..1, not {ambient!r}")
    background = _vec3(scene.get("background"), "background", (0.05, 0.05, 0.08))
    steps = int(scene.get("max_steps", config["max_steps"]))
    header = [*position, *forward, *right, *up, math.tan(math.radians(fov) / 2), *direction, float(ambient),
              *background, float(width), float(height), float(config["max_distance"]), float(config["epsilon"]),
              float(steps), 0.0]
    assert len(header) == HEADER
    gen = _Codegen()
    names = [gen.node(obj, "p", f"objects[{i}]") for i, obj in enumerate(objects)]
    acc = names[0]
    for i, name in enumerate(names[1:], 1):
        gen.lines.append(f"    let top{i} = op_union({acc}, {name});")
        acc = f"top{i}"
    body = "\n".join(gen.lines)
    code = f"{_PRELUDE}\nfn map(p: vec3<f32>) -> vec4<f32> {{\n{body}\n    return {acc};\n}}\n{_MAIN}"
    return code, numpy.array(header + gen.params, dtype=numpy.float32), width, height


class SdfRender(GpuActor):
    """Raymarches a signed-distance-field scene to a PNG on the GPU."""

    component = "tpl_gpu_sdf_render"
    inports = [PortSpec("scene", "Object", "{objects: [...], camera?, light?, background?, width?, height?}")]
    outports = [
        PortSpec("png", "Bytes", "the rendered picture as PNG"),
        PortSpec("image", "Object", "the picture as a uint8 [H, W, 4] image tensor", optional=True),
        error_port("a malformed scene, or a GPU failure"),
    ]
    config_schema = schema({
        "width": {"type": "integer", "minimum": 1, "maximum": 8192, "default": 256, "description": "Image width (a scene's `width` wins)."},
        "height": {"type": "integer", "minimum": 1, "maximum": 8192, "default": 256, "description": "Image height (a scene's `height` wins)."},
        "max_steps": {"type": "integer", "minimum": 1, "maximum": 4096, "default": 128, "description": "Raymarching steps per pixel."},
        "max_distance": {"type": "number", "exclusiveMinimum": 0, "default": 100.0, "description": "Rays stop beyond this distance."},
        "epsilon": {"type": "number", "exclusiveMinimum": 0, "default": 0.001, "description": "A ray hits when the distance is below this."},
        "image": {"type": "boolean", "default": False, "description": "Also send the picture as an image tensor on `image`."},
    })
    description = (
        "Renders a scene of spheres {radius}, boxes {size}, tori {radius, thickness} and planes (y = 0), combined with "
        "union, smooth_union {k}, subtract and intersect, each with position, rotation (degrees, X then Y then Z), "
        "scale and color; lit by one directional light. Sends PNG bytes."
    )
    example = {
        "config": {"width": 1, "height": 1, "image": True},
        "inputs": {"scene": [{"type": "Object", "data": {
            "camera": {"position": [0, 0, -3], "target": [0, 0, 0]},
            "light": {"direction": [0, 0, -1], "ambient": 0.0},
            "objects": [{"type": "sphere", "radius": 1, "color": [1, 0.5, 0]}]}}]},
        "outputs": {"image": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 4], "data": {
            "type": "Bytes", "data": [255, 128, 0, 255]}}}]},
    }

    def process(self, gpu: Gpu, ctx: Any) -> dict[str, Any]:
        numpy = np()
        code, params, width, height = compile_scene(ctx.inputs["scene"]["data"], ctx.config)
        pipeline = gpu.compute_pipeline(code)
        pixels = gpu.output(width * height * 4)
        gpu.dispatch(pipeline, [pixels, gpu.storage(params)], ((width + 7) // 8, (height + 7) // 8, 1))
        image = numpy.frombuffer(gpu.read(pixels, width * height * 4), dtype=numpy.uint8).reshape(height, width, 4)
        out: dict[str, Any] = {"png": Message.bytes(encode_png(image))}
        if ctx.config["image"]:
            out["image"] = array_message(image)
        return out


COMPONENTS = {"tpl_gpu_sdf_render": SdfRender}

