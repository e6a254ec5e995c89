"""The gpu pack on whatever adapter wgpu finds (here: Mesa's CPU adapter), checked against numpy references."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from reflow_cli import Message
from reflow_cli.registry import default_registry

from . import _sdf_reference
from ._helpers import run_component

SCENE: dict[str, Any] = {
    "camera": {"position": [0, 2.0, -6], "target": [0, 0.3, 0], "fov": 40},
    "light": {"direction": [-0.4, 1.0, -0.7], "ambient": 0.2},
    "background": [0.1, 0.12, 0.18],
    "objects": [
        {"type": "plane", "position": [0, -1, 0], "color": [0.4, 0.4, 0.45]},
        {"type": "smooth_union", "k": 0.4, "position": [-1.2, 0, 0], "children": [
            {"type": "sphere", "radius": 0.8, "color": [0.9, 0.2, 0.2]},
            {"type": "box", "size": [1.0, 1.0, 1.0], "position": [0.7, 0.2, 0], "rotation": [0, 30, 15],
             "color": [0.2, 0.3, 0.9]},
        ]},
        {"type": "torus", "radius": 0.7, "thickness": 0.2, "position": [1.5, 0.1, 0.2], "rotation": [70, 0, 0],
         "scale": 1.2, "color": [0.2, 0.8, 0.3]},
        {"type": "union", "children": [
            {"type": "sphere", "radius": 0.3, "position": [0.2, 1.1, 0.5], "color": [1, 0.8, 0.1]},
            {"type": "subtract", "position": [0.3, -0.5, -1.2], "children": [
                {"type": "box", "size": [0.6, 0.6, 0.6], "color": [0.8, 0.5, 0.9]},
                {"type": "sphere", "radius": 0.4}]},
        ]},
    ],
}


def tensor(array: np.ndarray) -> dict[str, Any]:
    array = np.ascontiguousarray(array)
    return {"type": "Object", "data": {"dtype": array.dtype.name, "shape": list(array.shape),
                                       "data": Message.bytes(array.tobytes())}}


def array_of(message: Message) -> np.ndarray:
    data = message["data"]
    return np.frombuffer(data["data"]["data"], dtype=data["dtype"]).reshape(data["shape"])


def decode_png(data: bytes) -> np.ndarray:
    import sys

    from ._helpers import ROOT

    sys.path.insert(0, str(ROOT / "packs" / "ml"))
    try:
        from reflow_pack_ml._codec import _decode_builtin
    finally:
        sys.path.remove(str(ROOT / "packs" / "ml"))
    return _decode_builtin(data)


def test_the_pack_has_at_least_six_templates(gpu_pack: dict) -> None:
    assert len(gpu_pack["templates"]) >= 6
    for template_id in gpu_pack["templates"]:
        spec = default_registry().lookup(template_id).spec
        assert spec is not None and spec.description and spec.threaded, template_id


@pytest.mark.parametrize("template_id", [
    "tpl_gpu_color_adjust", "tpl_gpu_compute", "tpl_gpu_gaussian_blur", "tpl_gpu_matmul", "tpl_gpu_render_2d",
    "tpl_gpu_sdf_render",
])
def test_each_example_gives_its_outputs(gpu_pack: dict, template_id: str) -> None:
    example = default_registry().lookup(template_id).spec.example
    result = run_component(template_id, example["config"], example["inputs"])
    assert result.failures == []
    got = {port: messages for port, messages in result.json().items() if port in example["outputs"]}
    assert got == example["outputs"]


def test_info_reports_the_adapter(gpu_pack: dict) -> None:
    info = run_component("tpl_gpu_info", {}, {"trigger": [{"type": "Flow"}]}).one("output")["data"]
    assert info["adapter_type"] in ("CPU", "DiscreteGPU", "IntegratedGPU", "VirtualGPU", "Unknown")
    assert info["limits"]["max_compute_workgroup_size_x"] >= 64


def test_compute_matches_numpy(gpu_pack: dict) -> None:
    rng = np.random.default_rng(7)
    values = rng.standard_normal((300, 7)).astype(np.float32)
    result = run_component("tpl_gpu_compute", {"expression": "sin(x) * 2.0 + f32(i % 3u)"}, {"input": [tensor(values)]})
    out = array_of(result.one("output"))
    index = np.arange(values.size).reshape(values.shape)
    np.testing.assert_allclose(out, np.sin(values) * 2 + index % 3, rtol=1e-4, atol=1e-4)
    ints = run_component("tpl_gpu_compute", {"expression": "x * x - 1", "dtype": "i32"},
                         {"input": [Message.array(list(range(-5, 6)))]})
    assert ints.one("output")["data"] == [x * x - 1 for x in range(-5, 6)]


def test_a_whole_shader_and_a_longer_output(gpu_pack: dict) -> None:
    shader = """
    @group(0) @binding(0) var<storage, read> input: array<f32>;
    @group(0) @binding(1) var<storage, read_write> output: array<f32>;
    @compute @workgroup_size(64)
    fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
        let i = gid.x;
        if (i >= arrayLength(&output)) { return; }
        output[i] = input[i % arrayLength(&input)] + f32(i / arrayLength(&input)) * 10.0;
    }
    """
    result = run_component("tpl_gpu_compute", {"shader": shader, "output_length": 6}, {"input": [Message.array([1, 2, 3])]})
    assert result.one("output")["data"] == [1.0, 2.0, 3.0, 11.0, 12.0, 13.0]
    broken = run_component("tpl_gpu_compute", {"expression": "x +* 2"}, {"input": [Message.array([1])]})
    assert broken.one("error")["data"].startswith("tpl_gpu_compute: the WGSL shader does not compile")


def test_matmul_matches_numpy(gpu_pack: dict) -> None:
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((13, 21)).astype(np.float32), rng.standard_normal((21, 9)).astype(np.float32)
    result = run_component("tpl_gpu_matmul", {}, {"a": [tensor(a)], "b": [tensor(b)]})
    np.testing.assert_allclose(array_of(result.one("output")), a @ b, rtol=1e-4, atol=1e-4)
    bad = run_component("tpl_gpu_matmul", {}, {"a": [tensor(a)], "b": [tensor(a)]})
    assert bad.one("error")["data"] == "tpl_gpu_matmul: cannot multiply shapes [13, 21] and [13, 21]"


def _blur_reference(image: np.ndarray, sigma: float) -> np.ndarray:
    radius = math.ceil(3 * sigma)
    offsets = np.arange(-radius, radius + 1)
    weights = np.exp(-(offsets**2) / (2 * sigma * sigma))
    weights = (weights / weights.sum()).astype(np.float32)
    pixels = image.astype(np.float32) / 255
    h, w = image.shape[:2]
    cols = np.clip(np.arange(w)[:, None] + offsets, 0, w - 1)
    horizontal = np.einsum("ywkc,k->ywc", pixels[:, cols], weights)
    rows = np.clip(np.arange(h)[:, None] + offsets, 0, h - 1)
    vertical = np.einsum("ykwc,k->ywc", horizontal[rows], weights)
    return np.floor(0.5 + 255 * np.clip(vertical, 0, 1)).astype(np.uint8)


def test_gaussian_blur_matches_numpy(gpu_pack: dict) -> None:
    rng = np.random.default_rng(9)
    image = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    result = run_component("tpl_gpu_gaussian_blur", {"sigma": 1.7, "png": True}, {"input": [tensor(image)]})
    out = array_of(result.one("image"))
    assert out.shape == image.shape
    difference = np.abs(out.astype(int) - _blur_reference(image, 1.7).astype(int))
    assert difference.max() <= 1
    np.testing.assert_array_equal(decode_png(result.one("png")["data"]), out)


def test_color_adjust_matches_numpy(gpu_pack: dict) -> None:
    rng = np.random.default_rng(10)
    image = rng.integers(0, 256, size=(16, 16, 4), dtype=np.uint8)
    config = {"brightness": 0.05, "contrast": 1.3, "saturation": 0.6, "gamma": 1.8}
    out = array_of(run_component("tpl_gpu_color_adjust", config, {"input": [tensor(image)]}).one("image"))
    c = image[..., :3].astype(np.float32) / 255
    c = (c - 0.5) * 1.3 + 0.5 + 0.05
    luma = c @ np.float32([0.299, 0.587, 0.114])
    c = luma[..., None] + (c - luma[..., None]) * 0.6
    c = np.clip(c, 0, 1) ** (1 / 1.8)
    expected = np.floor(0.5 + 255 * c).astype(np.uint8)
    assert np.abs(out[..., :3].astype(int) - expected).max() <= 1
    np.testing.assert_array_equal(out[..., 3], image[..., 3])


def test_render_2d_draws_what_numpy_says(gpu_pack: dict) -> None:
    scene = {"width": 64, "height": 48, "background": [0, 0, 0], "shapes": [
        {"type": "rect", "x": 4, "y": 6, "width": 20, "height": 10, "color": [1, 0, 0]},
        {"type": "circle", "center": [44, 24], "radius": 12, "segments": 96, "color": "#00ff00"},
        {"type": "rect", "x": 10, "y": 10, "width": 10, "height": 30, "color": [0, 0, 1, 0.5]},
        {"type": "line", "from": [0, 47], "to": [63, 47], "width": 2, "color": [1, 1, 1]},
        {"type": "triangle", "points": [[30, 40], [40, 46], [30, 46]], "color": [1, 1, 0]},
    ]}
    result = run_component("tpl_gpu_render_2d", {}, {"scene": [Message.object(scene)]})
    image = array_of(result.one("image"))
    np.testing.assert_array_equal(decode_png(result.one("png")["data"]), image)
    expected = np.zeros((48, 64, 4), dtype=np.float64)
    expected[..., 3] = 1
    expected[6:16, 4:24, :3] = [1, 0, 0]
    ys, xs = np.mgrid[0:48, 0:64] + 0.5
    distance = np.hypot(xs - 44, ys - 24)
    expected[distance < 12, :3] = [0, 1, 0]
    expected[10:40, 10:20, :3] = expected[10:40, 10:20, :3] * 0.5 + np.array([0, 0, 1]) * 0.5
    expected[46:48, :63, :3] = 1  # pixel centres x + 0.5 < 63
    want = np.floor(0.5 + 255 * expected).astype(int)
    exact = np.ones((48, 64), dtype=bool)
    exact[np.abs(distance - 12) < 1.5] = False  # the circle's edge is a 96-gon
    exact[39:48, 28:42] = False  # the triangle (checked apart)
    assert np.abs(image.astype(int) - want)[exact].max() <= 1
    assert image[44, 32].tolist() == [255, 255, 0, 255]


def test_sdf_render_matches_a_numpy_raymarcher(gpu_pack: dict) -> None:
    size = 64
    result = run_component("tpl_gpu_sdf_render", {"width": size, "height": size, "image": True},
                           {"scene": [Message.object(SCENE)]})
    image = array_of(result.one("image"))
    np.testing.assert_array_equal(decode_png(result.one("png")["data"]), image)
    reference = _sdf_reference.render(SCENE, size, size)
    difference = np.abs(image.astype(int) - reference.astype(int)).max(axis=2)
    # edges and grazing rays may take a step more or less on another float unit: a few pixels may differ
    assert (difference <= 2).mean() >= 0.98, (difference > 2).sum()
    assert difference.mean() < 1.0
    assert len(np.unique(image.reshape(-1, 4), axis=0)) > 50  # a lit scene, not a flat colour


def test_sdf_scenes_with_new_numbers_reuse_the_pipeline(gpu_pack: dict) -> None:
    from reflow_pack_gpu._sdf import compile_scene

    config = {"width": 32, "height": 32, "max_steps": 128, "max_distance": 100.0, "epsilon": 0.001}
    moved = {**SCENE, "objects": [{**SCENE["objects"][2], "position": [0, 0, 0]}, *SCENE["objects"][:2], SCENE["objects"][3]]}
    again = {**moved, "objects": [{**moved["objects"][0], "position": [1, 2, 3], "scale": 0.5}, *moved["objects"][1:]]}
    code_a, params_a, _, _ = compile_scene(moved, config)
    code_b, params_b, _, _ = compile_scene(again, config)
    assert code_a == code_b and not np.array_equal(params_a, params_b)


def test_bad_scenes_go_to_the_error_port(gpu_pack: dict) -> None:
    result = run_component("tpl_gpu_sdf_render", {"width": 8, "height": 8}, {"scene": [
        Message.object({"objects": [{"type": "cone"}]}),
        Message.object({"objects": [{"type": "sphere", "radius": -1}]}),
        Message.object({"objects": []}),
    ]})
    errors = sorted(m["data"] for m in result.outputs["error"])
    assert errors == [
        "tpl_gpu_sdf_render: objects[0]: `radius` must be a positive number, not -1",
        "tpl_gpu_sdf_render: objects[0]: an object has `type` one of sphere, box, torus, plane, union, smooth_union, subtract, intersect",
        "tpl_gpu_sdf_render: scene: `objects` must be a non-empty list",
    ]


def test_each_node_has_its_own_device(gpu_pack: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from reflow_pack_gpu import _gpu

    opened: list[Any] = []
    closed: list[Any] = []
    original_init, original_close = _gpu.Gpu.__init__, _gpu.Gpu.close

    def init(self: Any, *args: Any) -> None:
        original_init(self, *args)
        opened.append(self)

    def close(self: Any) -> None:
        closed.append(self)
        original_close(self)

    monkeypatch.setattr(_gpu.Gpu, "__init__", init)
    monkeypatch.setattr(_gpu.Gpu, "close", close)
    from reflow_cli import Network

    net = Network()
    for name in ("one", "two"):
        net.add_node(name, "tpl_gpu_compute", {"expression": "x + 1.0"})
        net.add_initial(name, "input", Message.array([1]))
    assert net.run(timeout=60).state.name == "COMPLETE"
    assert len(opened) == 2 and opened[0].device is not opened[1].device
    assert sorted(map(id, closed)) == sorted(map(id, opened))
