"""Tiny ONNX models built with onnx.helper, and numpy versions of what they compute."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

IR_VERSION = 9  # onnxruntime >= 1.17 reads it
OPSET = 17


def _model(graph: Any) -> bytes:
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="reflow-tests")
    model.ir_version = IR_VERSION
    return model.SerializeToString()


def classifier(weights: np.ndarray, bias: np.ndarray) -> bytes:
    """x [1, K] float → logits = x·W + b, probs = softmax(logits): outputs ``probs`` then ``logits``."""
    from onnx import TensorProto, helper, numpy_helper

    k, n = weights.shape
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
        ],
        "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, n]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, n])],
        initializer=[numpy_helper.from_array(weights.astype(np.float32), "W"),
                     numpy_helper.from_array(bias.astype(np.float32), "b")],
    )
    return _model(graph)


def classifier_numpy(x: np.ndarray, weights: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    logits = x.astype(np.float32) @ weights.astype(np.float32) + bias.astype(np.float32)
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True), logits


def two_inputs() -> bytes:
    """a, b [2, 3] int64 → ``sum`` = a + b, ``product`` = a * b."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"]), helper.make_node("Mul", ["a", "b"], ["product"])],
        "two_inputs",
        [helper.make_tensor_value_info("a", TensorProto.INT64, [2, 3]),
         helper.make_tensor_value_info("b", TensorProto.INT64, [2, 3])],
        [helper.make_tensor_value_info("sum", TensorProto.INT64, [2, 3]),
         helper.make_tensor_value_info("product", TensorProto.INT64, [2, 3])],
    )
    return _model(graph)


def mlp(width: int, layers: int, seed: int = 0) -> bytes:
    """x [1, width] → ``layers`` × (MatMul, Add, Relu): a model whose cost grows with width² × layers."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    current = "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
        b = rng.standard_normal(width).astype(np.float32) * 0.01
        inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [current, f"W{i}"], [f"m{i}"]),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"]),
                  helper.make_node("Relu", [f"a{i}"], [f"y{i}" if i < layers - 1 else "y"])]
        current = f"y{i}"
    graph = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])], initializer=inits)
    return _model(graph)


def save(path: Path, model: bytes) -> Path:
    path.write_bytes(model)
    return path
