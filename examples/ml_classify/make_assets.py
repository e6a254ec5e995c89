"""Writes this example's model and picture: `python make_assets.py` (needs numpy and onnx).

model.onnx: a tiny colour classifier. It averages each channel of a [1, 3, 8, 8] image
tensor (ReduceMean), weighs the three averages (MatMul) and turns them into
probabilities (Softmax) for the classes in labels.txt: red, green, blue.
image.png: a 24×16 picture, mostly red with some noise.
The files are committed; the tests check that this script still writes the same bytes.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def model_bytes() -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    weights = (np.eye(3) * 8 - 2).astype(np.float32)  # each class prefers its own channel over the others
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMean", ["image"], ["means"], axes=[2, 3], keepdims=0),
            helper.make_node("MatMul", ["means", "W"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
        ],
        "colour_classifier",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 3])],
        initializer=[numpy_helper.from_array(weights, "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="reflow-example")
    model.ir_version = 9
    return model.SerializeToString()


def image_bytes() -> bytes:
    rng = np.random.default_rng(42)
    pixels = rng.integers(0, 90, size=(16, 24, 3), dtype=np.uint8)
    pixels[..., 0] = rng.integers(170, 256, size=(16, 24), dtype=np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in pixels)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 24, 16, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    (HERE / "model.onnx").write_bytes(model_bytes())
    (HERE / "image.png").write_bytes(image_bytes())
    print("wrote model.onnx and image.png")
