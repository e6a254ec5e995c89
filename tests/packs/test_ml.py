"""The ml pack: ONNX inference (models built with onnx.helper, compared with numpy) and image/tensor ops."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reflow_cli import Message, Network
from reflow_cli.registry import default_registry

from . import _models
from ._helpers import Sink, run_component

pytest.importorskip("onnx", reason="the ml tests build their models with onnx (pip install onnx)")



def tensor(array: np.ndarray) -> dict[str, Any]:
    array = np.ascontiguousarray(array)
    return {"type": "Object", "data": {"dtype": array.dtype.name, "shape": list(array.shape),
                                       "data": Message.bytes(array.tobytes())}}


def array_of(message: Message) -> np.ndarray:
    data = message["data"]
    return np.frombuffer(data["data"]["data"], dtype=data["dtype"]).reshape(data["shape"])


def test_the_pack_has_at_least_twelve_templates(ml_pack: dict) -> None:
    assert len(ml_pack["templates"]) >= 12
    assert "tpl_ml_run_inference" in ml_pack["templates"]
    for template_id in ml_pack["templates"]:
        spec = default_registry().lookup(template_id).spec
        assert spec is not None and spec.description and spec.config_schema, template_id
        for key, prop in spec.config_schema["properties"].items():
            assert prop.get("description"), (template_id, key)


@pytest.mark.parametrize("template_id", [
    "tpl_ml_argmax", "tpl_ml_crop", "tpl_ml_decode_image", "tpl_ml_encode_image", "tpl_ml_grayscale", "tpl_ml_labels",
    "tpl_ml_nms", "tpl_ml_normalize", "tpl_ml_resize", "tpl_ml_softmax", "tpl_ml_tensor_to_array", "tpl_ml_to_tensor",
    "tpl_ml_top_k",
])
def test_each_example_gives_its_outputs(ml_pack: dict, template_id: str) -> None:
    example = default_registry().lookup(template_id).spec.example
    result = run_component(template_id, example["config"], example["inputs"])
    assert result.failures == []
    got = {port: messages for port, messages in result.json().items() if port in example["outputs"]}
    assert got == example["outputs"]


# -- inference -----------------------------------------------------------------------------


def test_inference_matches_numpy(ml_pack: dict, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    weights, bias = rng.standard_normal((16, 4)), rng.standard_normal(4)
    model = _models.save(tmp_path / "clf.onnx", _models.classifier(weights, bias))
    xs = [rng.standard_normal((1, 16)).astype(np.float32) for _ in range(5)]
    result = run_component("tpl_ml_run_inference", {"model": str(model), "threads": 1},
                           {"input": [tensor(x) for x in xs]})
    assert result.failures == [] and "error" not in result.outputs
    assert len(result.outputs["output"]) == 5
    for x, out, named in zip(xs, result.outputs["output"], result.outputs["outputs"], strict=True):
        probs, logits = _models.classifier_numpy(x, weights, bias)
        np.testing.assert_allclose(array_of(out), probs, rtol=1e-5, atol=1e-6)
        assert set(named["data"]) == {"probs", "logits"}
        np.testing.assert_allclose(array_of(named["data"]["logits"]), logits, rtol=1e-5, atol=1e-5)


def test_outputs_can_be_chosen_and_inputs_are_cast(ml_pack: dict, tmp_path: Path) -> None:
    weights, bias = np.eye(3, 2), np.zeros(2)
    model = _models.save(tmp_path / "clf.onnx", _models.classifier(weights, bias))
    x = np.array([[1.0, 2.0, 3.0]])  # float64: cast to the model's float32
    result = run_component("tpl_ml_run_inference", {"model": str(model), "outputs": ["logits"]}, {"input": [tensor(x)]})
    logits = array_of(result.one("output"))
    assert logits.dtype == np.float32 and logits.tolist() == [[1.0, 2.0]]
    assert set(result.one("outputs")["data"]) == {"logits"}


def test_named_inputs_and_outputs(ml_pack: dict, tmp_path: Path) -> None:
    model = _models.save(tmp_path / "two.onnx", _models.two_inputs())
    a = np.arange(6, dtype=np.int64).reshape(2, 3)
    b = np.full((2, 3), 3, dtype=np.int64)
    result = run_component("tpl_ml_run_inference", {"model": str(model)},
                           {"input": [{"type": "Object", "data": {"a": tensor(a)["data"], "b": tensor(b)["data"]}}]})
    named = result.one("outputs")["data"]
    np.testing.assert_array_equal(array_of(named["sum"]), a + b)
    np.testing.assert_array_equal(array_of(named["product"]), a * b)
    np.testing.assert_array_equal(array_of(result.one("output")), a + b)


def test_bad_input_goes_to_the_error_port(ml_pack: dict, tmp_path: Path) -> None:
    model = _models.save(tmp_path / "two.onnx", _models.two_inputs())
    a = np.zeros((2, 3), dtype=np.int64)
    result = run_component("tpl_ml_run_inference", {"model": str(model)}, {"input": [
        {"type": "Object", "data": {"a": tensor(a)["data"], "c": tensor(a)["data"]}},
        {"type": "String", "data": "not a tensor"},
        tensor(np.zeros((5, 5), dtype=np.int64)),
    ]})
    errors = sorted(m["data"] for m in result.outputs["error"])
    assert errors[0].startswith("tpl_ml_run_inference: inference failed:")
    assert errors[1] == "tpl_ml_run_inference: input: expected a tensor Object, got String"
    assert errors[2] == "tpl_ml_run_inference: the model has no input 'c'; its inputs: a, b"
    no_model = run_component("tpl_ml_run_inference", {}, {"input": [tensor(a)]})
    assert no_model.one("error")["data"].startswith("tpl_ml_run_inference: no model")


def test_a_missing_model_file_fails_the_node_at_setup(ml_pack: dict, tmp_path: Path) -> None:
    result = run_component("tpl_ml_run_inference", {"model": str(tmp_path / "nope.onnx")}, {})
    assert len(result.failures) == 1 and "setup failed" in result.failures[0]
    assert "cannot load the ONNX model" in result.failures[0]


def test_a_model_sent_as_bytes_replaces_the_model(ml_pack: dict) -> None:
    net = Network(on_error="continue")
    sink = Sink()
    net.register_actor("sink", sink)
    net.add_node("infer", "tpl_ml_run_inference", {})
    net.add_node("sink", "sink")
    net.add_connection("infer", "output", "sink", "output")
    net.start()
    try:
        net.add_initial("infer", "model", Message.bytes(_models.classifier(np.eye(2), np.zeros(2))))
        assert net.wait(10).state.name == "COMPLETE"
        net.add_initial("infer", "input", tensor(np.array([[0.0, 5.0]], dtype=np.float32)))
        assert net.wait(10).state.name == "COMPLETE"
    finally:
        net.shutdown()
    (port, message), = sink.items
    probs = array_of(message)
    assert probs.argmax() == 1 and abs(float(probs.sum()) - 1) < 1e-6


# -- image and tensor ops --------------------------------------------------------------------


def _png(array: np.ndarray, filters: list[int], colour: int) -> bytes:
    """A PNG with the given filter type per row (a small independent encoder for the decoder's tests)."""
    h = array.shape[0]
    rows = array.reshape(h, -1).astype(np.int32)
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    out = bytearray()
    prior = np.zeros(rows.shape[1], dtype=np.int32)
    for y in range(h):
        row, kind = rows[y], filters[y % len(filters)]
        left = np.concatenate([np.zeros(bpp, dtype=np.int32), row[:-bpp]])
        corner = np.concatenate([np.zeros(bpp, dtype=np.int32), prior[:-bpp]])
        if kind == 0:
            f = row
        elif kind == 1:
            f = row - left
        elif kind == 2:
            f = row - prior
        elif kind == 3:
            f = row - (left + prior) // 2
        else:
            p = left + prior - corner
            pa, pb, pc = abs(p - left), abs(p - prior), abs(p - corner)
            f = row - np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, prior, corner))
        out += bytes([kind]) + (f % 256).astype(np.uint8).tobytes()
        prior = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", array.shape[1], h, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(out))) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("colour", "channels"), [(0, 1), (2, 3), (4, 2), (6, 4)])
def test_the_builtin_png_decoder_reads_every_filter(ml_pack: dict, colour: int, channels: int) -> None:
    from reflow_pack_ml._codec import _decode_builtin, decode_image, encode_png

    rng = np.random.default_rng(colour)
    image = rng.integers(0, 256, size=(9, 7, channels), dtype=np.uint8)
    encoded = _png(image, [0, 1, 2, 3, 4], colour)
    np.testing.assert_array_equal(_decode_builtin(encoded), image)
    np.testing.assert_array_equal(decode_image(encode_png(image)), image)


def test_decode_image_converts_modes_and_reports_garbage(ml_pack: dict) -> None:
    from reflow_pack_ml._codec import encode_png

    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 128
    result = run_component("tpl_ml_decode_image", {"mode": "rgb"}, {"input": [Message.bytes(encode_png(rgba)),
                                                                              Message.bytes(b"GIF89a...")]})
    assert array_of(result.one("image")).tolist() == [[[200, 0, 0]] * 2] * 2
    assert result.one("error")["data"].startswith("tpl_ml_decode_image: cannot decode the image")


def test_resize_matches_a_direct_bilinear_computation(ml_pack: dict) -> None:
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(10, 14, 3), dtype=np.uint8)
    result = run_component("tpl_ml_resize", {"width": 5, "height": 4}, {"input": [tensor(image)]})
    out = array_of(result.one("output"))
    assert out.shape == (4, 5, 3)
    expected = np.empty((4, 5, 3))
    for oy in range(4):
        for ox in range(5):
            sy = min(max((oy + 0.5) * 10 / 4 - 0.5, 0), 9)
            sx = min(max((ox + 0.5) * 14 / 5 - 0.5, 0), 13)
            y0, x0 = int(sy), int(sx)
            y1, x1 = min(y0 + 1, 9), min(x0 + 1, 13)
            wy, wx = sy - y0, sx - x0
            expected[oy, ox] = ((1 - wy) * ((1 - wx) * image[y0, x0] + wx * image[y0, x1])
                                + wy * ((1 - wx) * image[y1, x0] + wx * image[y1, x1]))
    assert np.abs(out.astype(float) - expected).max() <= 0.51
    aspect = run_component("tpl_ml_resize", {"width": 7, "height": 7, "keep_aspect": True}, {"input": [tensor(image)]})
    assert array_of(aspect.one("output")).shape == (5, 7, 3)


def test_image_to_model_input_chain(ml_pack: dict) -> None:
    rng = np.random.default_rng(4)
    image = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    crop = array_of(run_component("tpl_ml_crop", {"width": 4, "height": 2, "center": True},
                                  {"input": [tensor(image)]}).one("output"))
    np.testing.assert_array_equal(crop, image[2:4, 2:6])
    gray = array_of(run_component("tpl_ml_grayscale", {}, {"input": [tensor(image)]}).one("output"))
    np.testing.assert_array_equal(gray[..., 0], np.rint(image.astype(np.float32) @ np.float32([0.299, 0.587, 0.114])).astype(np.uint8))
    mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    norm = array_of(run_component("tpl_ml_normalize", {"mean": mean, "std": std}, {"input": [tensor(image)]}).one("output"))
    np.testing.assert_allclose(norm, (image / 255.0 - mean) / std, rtol=1e-5, atol=1e-5)
    nchw = array_of(run_component("tpl_ml_to_tensor", {"scale": 1 / 255}, {"input": [tensor(image)]}).one("output"))
    assert nchw.shape == (1, 3, 6, 8) and nchw.dtype == np.float32
    np.testing.assert_allclose(nchw[0], image.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    outside = run_component("tpl_ml_crop", {"x": 6, "y": 0, "width": 4, "height": 2}, {"input": [tensor(image)]})
    assert outside.one("error")["data"] == "tpl_ml_crop: the region 4x2 at (6, 0) is outside the 8x6 image"


def test_softmax_argmax_top_k_and_labels_match_numpy(ml_pack: dict, tmp_path: Path) -> None:
    logits = np.array([[1.0, 3.0, 0.5, 2.0]], dtype=np.float32)
    probs = array_of(run_component("tpl_ml_softmax", {}, {"input": [tensor(logits)]}).one("output"))
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(probs, expected, rtol=1e-6)
    best = run_component("tpl_ml_argmax", {}, {"input": [tensor(probs)]})
    assert best.one("output").as_json() == {"type": "Integer", "data": 1}
    batch = run_component("tpl_ml_argmax", {}, {"input": [tensor(np.array([[1, 9], [8, 2]], dtype=np.int32))]})
    assert batch.one("output")["data"] == [1, 0]
    labels = tmp_path / "labels.txt"
    labels.write_text("zero\none\ntwo\nthree\n")
    top = run_component("tpl_ml_top_k", {"k": 3, "labels_file": str(labels)}, {"input": [tensor(probs)]})
    assert [(i["index"], i["label"]) for i in top.one("output")["data"]] == [(1, "one"), (3, "three"), (0, "zero")]
    named = run_component("tpl_ml_labels", {"labels": ["a", "b"], "unknown": "index"},
                          {"input": [Message.array([1, 0, 7]), Message.array([{"index": 0, "score": 0.5}])]})
    assert [m["data"] for m in named.outputs["output"]] == [["b", "a", "7"], [{"index": 0, "score": 0.5, "label": "a"}]]


def test_nms_matches_a_brute_force_reference(ml_pack: dict) -> None:
    from reflow_pack_ml._post import non_max_suppression

    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 50, size=(40, 2))
    wh = rng.uniform(5, 20, size=(40, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1).astype(np.float32)
    scores = rng.uniform(0, 1, size=40).astype(np.float32)

    def iou(a: np.ndarray, b: np.ndarray) -> float:
        w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
        h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
        inter = w * h
        return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)

    expected: list[int] = []
    for i in sorted(range(40), key=lambda i: -scores[i]):
        if all(iou(boxes[i], boxes[j]) <= 0.3 for j in expected):
            expected.append(i)
    assert non_max_suppression(boxes, scores, 0.3) == expected
    result = run_component("tpl_ml_nms", {"iou_threshold": 0.3, "box_format": "xywh"}, {"input": [
        {"type": "Object", "data": {"boxes": tensor(np.concatenate([xy, wh], axis=1).astype(np.float32))["data"],
                                    "scores": tensor(scores)["data"]}}]})
    assert result.one("indices")["data"] == expected


def test_tensors_are_read_without_copying(ml_pack: dict) -> None:
    from reflow_cli.tensors import to_array

    payload = np.arange(12, dtype=np.float32).tobytes()
    message = Message.object({"dtype": "float32", "shape": [3, 4], "data": Message.bytes(payload)})
    array = to_array(message)
    assert array.shape == (3, 4) and not array.flags.writeable
    assert np.shares_memory(array, np.frombuffer(message["data"]["data"]["data"], dtype=np.uint8))
