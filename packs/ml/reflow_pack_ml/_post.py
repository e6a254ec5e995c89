"""Reading model outputs: softmax, argmax, top-k, non-max suppression, labels, tensors as plain arrays."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reflow_cli import Message, PortSpec

from ._common import TENSOR, MlActor, error_port, schema
from reflow_cli.tensors import TensorError, array_message, is_tensor, np, to_array

__all__ = ["COMPONENTS", "non_max_suppression", "softmax"]


def softmax(array: Any, axis: int = -1) -> Any:
    """Softmax along ``axis`` (stable: the maximum is subtracted first), float32."""
    numpy = np()
    x = array.astype(numpy.float32)
    shifted = numpy.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


class Softmax(MlActor):
    """Softmax over one axis of a tensor."""

    component = "tpl_ml_softmax"
    inports = [PortSpec("input", "Object", TENSOR + " (logits)")]
    outports = [PortSpec("output", "Object", "float32 probabilities, same shape"), error_port("not a tensor")]
    config_schema = schema({"axis": {"type": "integer", "default": -1, "description": "The axis that sums to 1."}})
    description = "exp(x − max) / Σ exp(x − max) along `axis`, as float32."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "float32", "shape": [2], "data": [0, 0]}}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "float32", "shape": [2], "data": {
            "type": "Bytes", "data": [0, 0, 0, 63, 0, 0, 0, 63]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        array = self.array(message)
        if array.ndim == 0:
            raise TensorError("softmax needs at least one axis")
        return {"output": array_message(softmax(array, config["axis"]))}


def _scores(array: Any) -> Any:
    """A 1-D score vector: ``[N]``, or the single row of ``[1, N]`` (``[1, N, 1, 1]``...)."""
    squeezed = array.reshape(-1) if array.size == max(array.shape, default=1) else None
    if squeezed is None:
        raise TensorError(f"expected one row of scores ([N] or [1, N]), got shape {list(array.shape)}")
    return squeezed


class Argmax(MlActor):
    """The index of the largest value."""

    component = "tpl_ml_argmax"
    inports = [PortSpec("input", "Object", TENSOR)]
    outports = [
        PortSpec("output", None, "Integer index (one row), or an Array of indices (one per row along the other axes)"),
        PortSpec("score", None, "the largest value (Float), or an Array of them", optional=True),
        error_port("not a tensor"),
    ]
    config_schema = schema({"axis": {"type": "integer", "default": -1, "description": "The axis to search."}})
    description = "Index and value of the maximum along `axis`: an Integer and a Float for a single row ([N] or [1, N]), Arrays for a batch."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "float32", "shape": [1, 3], "data": [0.1, 0.7, 0.2]}}]},
        "outputs": {"output": [{"type": "Integer", "data": 1}], "score": [{"type": "Float", "data": 0.699999988079071}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        array = self.array(message)
        if array.size == 0:
            raise TensorError("argmax of an empty tensor")
        axis = config["axis"]
        index = numpy.argmax(array, axis=axis)
        score = numpy.take_along_axis(array, numpy.expand_dims(index, axis), axis=axis).squeeze(axis)
        if index.size == 1:
            return {"output": Message.integer(int(index.reshape(-1)[0])), "score": Message.float(float(score.reshape(-1)[0]))}
        return {"output": Message.array(index.tolist()), "score": Message.array(score.astype(float).tolist())}


def _labels(config: Mapping[str, Any], ctx: Any) -> list[str]:
    labels = ctx.state.get("labels")
    if labels is None:
        labels = list(config.get("labels") or [])
        path = config.get("labels_file") or ""
        if path:
            try:
                labels = [line.strip() for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
            except OSError as exc:
                raise ValueError(f"cannot read labels_file {path!r}: {exc.strerror or exc}") from None
        ctx.state["labels"] = labels
    return labels


_LABEL_CONFIG = {
    "labels": {"type": "array", "items": {"type": "string"}, "default": [], "description": "Class names by index."},
    "labels_file": {"type": "string", "default": "",
                    "description": "A text file with one class name per line (wins over `labels`)."},
}


class TopK(MlActor):
    """The k largest scores with their indices (and labels)."""

    component = "tpl_ml_top_k"
    inports = [PortSpec("input", "Object", TENSOR + " of scores: [N] or [1, N]")]
    outports = [PortSpec("output", "Array", "[{index, score, label?}] best first"), error_port("not one row of scores")]
    config_schema = schema({"k": {"type": "integer", "minimum": 1, "default": 5, "description": "How many to keep."},
                            **_LABEL_CONFIG})
    description = "The `k` best scores of one row, best first, as [{index, score}] (with `label` when labels are given)."
    example = {
        "config": {"k": 2, "labels": ["cat", "dog", "fox"]},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "float64", "shape": [3], "data": [0.2, 0.5, 0.3]}}]},
        "outputs": {"output": [{"type": "Array", "data": [{"index": 1, "score": 0.5, "label": "dog"},
                                                          {"index": 2, "score": 0.3, "label": "fox"}]}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        scores = _scores(self.array(message))
        k = min(config["k"], scores.size)
        order = numpy.argsort(-scores, kind="stable")[:k]
        labels = _labels(config, ctx)
        out = []
        for index in order.tolist():
            item: dict[str, Any] = {"index": index, "score": float(scores[index])}
            if labels:
                item["label"] = labels[index] if index < len(labels) else str(index)
            out.append(item)
        return {"output": Message.array(out)}


def _xyxy(boxes: Any, box_format: str) -> Any:
    numpy = np()
    b = boxes.astype(numpy.float32)
    if box_format == "xyxy":
        return b
    if box_format == "xywh":
        return numpy.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1)
    return numpy.stack([b[:, 0] - b[:, 2] / 2, b[:, 1] - b[:, 3] / 2, b[:, 0] + b[:, 2] / 2, b[:, 1] + b[:, 3] / 2], axis=1)


def non_max_suppression(boxes: Any, scores: Any, iou_threshold: float, score_threshold: float = 0.0,
                        max_detections: int = 100) -> list[int]:
    """Indices kept by greedy NMS on ``[N, 4]`` xyxy boxes, best score first."""
    numpy = np()
    order = [i for i in numpy.argsort(-scores, kind="stable").tolist() if scores[i] >= score_threshold]
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = numpy.maximum(x2 - x1, 0) * numpy.maximum(y2 - y1, 0)
    keep: list[int] = []
    candidates = numpy.array(order, dtype=numpy.intp)
    while candidates.size and len(keep) < max_detections:
        best, rest = candidates[0], candidates[1:]
        keep.append(int(best))
        w = numpy.maximum(numpy.minimum(x2[best], x2[rest]) - numpy.maximum(x1[best], x1[rest]), 0)
        h = numpy.maximum(numpy.minimum(y2[best], y2[rest]) - numpy.maximum(y1[best], y1[rest]), 0)
        inter = w * h
        union = areas[best] + areas[rest] - inter
        iou = numpy.where(union > 0, inter / numpy.where(union > 0, union, 1), 0)
        candidates = rest[iou <= iou_threshold]
    return keep


class NonMaxSuppression(MlActor):
    """Non-max suppression of detection boxes."""

    component = "tpl_ml_nms"
    inports = [PortSpec("input", "Object", "{boxes: tensor [N, 4], scores: tensor [N]}, or one tensor [N, 5] "
                        "of box + score rows")]
    outports = [
        PortSpec("output", "Array", "kept detections [{index, box: [x1, y1, x2, y2], score, label?}], best first"),
        PortSpec("indices", "Array", "the kept row indices", optional=True),
        error_port("not boxes and scores"),
    ]
    config_schema = schema({
        "iou_threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5,
                          "description": "Drop a box overlapping a better one by more than this (intersection over union)."},
        "score_threshold": {"type": "number", "default": 0.0, "description": "Ignore boxes scoring below this."},
        "max_detections": {"type": "integer", "minimum": 1, "default": 100, "description": "Keep at most this many."},
        "box_format": {"type": "string", "enum": ["xyxy", "xywh", "cxcywh"], "default": "xyxy",
                       "description": "Corners (x1, y1, x2, y2), corner + size, or centre + size."},
        **_LABEL_CONFIG,
    })
    description = "Greedy non-max suppression: keeps the best-scoring boxes, dropping those that overlap a kept one by more than `iou_threshold`; boxes come out as corners."
    example = {
        "config": {"iou_threshold": 0.5},
        "inputs": {"input": [{"type": "Object", "data": {
            "boxes": {"dtype": "float32", "shape": [3, 4], "data": [0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30]},
            "scores": {"dtype": "float32", "shape": [3], "data": [0.5, 0.75, 0.25]}}}]},
        "outputs": {
            "output": [{"type": "Array", "data": [{"index": 1, "box": [1.0, 1.0, 10.0, 10.0], "score": 0.75},
                                                  {"index": 2, "box": [20.0, 20.0, 30.0, 30.0], "score": 0.25}]}],
            "indices": [{"type": "Array", "data": [1, 2]}],
        },
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        data = message["data"]
        if message["type"] == "Object" and isinstance(data, Mapping) and not is_tensor(data):
            if "boxes" not in data or "scores" not in data:
                raise TensorError("expected {boxes, scores} or one [N, 5] tensor")
            boxes = to_array(data["boxes"], "boxes")
            scores = to_array(data["scores"], "scores").reshape(-1)
        else:
            rows = self.array(message)
            if rows.ndim != 2 or rows.shape[1] != 5:
                raise TensorError(f"expected [N, 5] rows of box and score, got shape {list(rows.shape)}")
            boxes, scores = rows[:, :4], rows[:, 4]
        if boxes.ndim != 2 or boxes.shape[1] != 4 or boxes.shape[0] != scores.shape[0]:
            raise TensorError(f"boxes must be [N, 4] and scores [N]; got {list(boxes.shape)} and {list(scores.shape)}")
        corners = _xyxy(boxes, config["box_format"])
        scores = scores.astype(np().float32)
        keep = non_max_suppression(corners, scores, config["iou_threshold"], config["score_threshold"],
                                   config["max_detections"])
        labels = _labels(config, ctx)
        detections = []
        for index in keep:
            item: dict[str, Any] = {"index": index, "box": [float(v) for v in corners[index]], "score": float(scores[index])}
            if labels:
                item["label"] = labels[index] if index < len(labels) else str(index)
            detections.append(item)
        return {"output": Message.array(detections), "indices": Message.array(keep)}


class Labels(MlActor):
    """Class indices to class names."""

    component = "tpl_ml_labels"
    inports = [PortSpec("input", None, "an Integer index, an Array of indices, or top-k results [{index, ...}]")]
    outports = [PortSpec("output", None, "a String label, an Array of labels, or the results with `label` added"),
                error_port("an index without a label")]
    config_schema = schema({**_LABEL_CONFIG, "unknown": {
        "type": "string", "enum": ["error", "index"], "default": "error",
        "description": "An index beyond the labels: an error, or its number as text."}})
    description = "Maps class indices to names from `labels` or `labels_file`: Integer → String, Array of ints → Array of Strings, [{index, ...}] → the same with `label`."
    example = {
        "config": {"labels": ["cat", "dog"]},
        "inputs": {"input": [{"type": "Integer", "data": 1}]},
        "outputs": {"output": [{"type": "String", "data": "dog"}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        labels = _labels(config, ctx)

        def name(index: Any) -> str:
            if type(index) is not int or index < 0:
                raise ValueError(f"a class index is a non-negative integer, not {index!r}")
            if index < len(labels):
                return labels[index]
            if config["unknown"] == "index":
                return str(index)
            raise ValueError(f"index {index} has no label ({len(labels)} labels)")

        data = message["data"]
        if message["type"] == "Integer":
            return {"output": Message.string(name(data))}
        if message["type"] == "Array":
            out = [
                {**item, "label": name(item.get("index"))} if isinstance(item, Mapping) else name(item)
                for item in data
            ]
            return {"output": Message.array(out)}
        if message["type"] == "Object" and is_tensor(data):
            return {"output": Message.array([name(int(i)) for i in to_array(data).reshape(-1).tolist()])}
        raise ValueError(f"expected an Integer, an Array or an index tensor, got {message['type']}")


class TensorToArray(MlActor):
    """A tensor as nested lists of numbers (for JSON, logs and non-ml components)."""

    component = "tpl_ml_tensor_to_array"
    inports = [PortSpec("input", "Object", TENSOR)]
    outports = [PortSpec("output", "Array", "the values as nested lists, shaped like the tensor"),
                PortSpec("shape", "Array", "the tensor's shape", optional=True), error_port("not a tensor")]
    config_schema = schema({"decimals": {"type": "integer", "minimum": -1, "default": -1,
                                         "description": "Round floats to this many decimals (-1: as they are)."}})
    description = "Turns a tensor into an Array of nested lists (floats as JSON numbers), and sends its shape."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "int32", "shape": [2, 1], "data": [4, 5]}}]},
        "outputs": {"output": [{"type": "Array", "data": [[4], [5]]}], "shape": [{"type": "Array", "data": [2, 1]}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        array = self.array(message)
        if array.dtype.kind == "f":
            array = array.astype(numpy.float64)
            if config["decimals"] >= 0:
                array = numpy.round(array, config["decimals"])
        values = array.tolist()
        return {"output": Message.array(values if isinstance(values, list) else [values]),
                "shape": Message.array(list(array.shape))}


COMPONENTS = {
    "tpl_ml_softmax": Softmax,
    "tpl_ml_argmax": Argmax,
    "tpl_ml_top_k": TopK,
    "tpl_ml_nms": NonMaxSuppression,
    "tpl_ml_labels": Labels,
    "tpl_ml_tensor_to_array": TensorToArray,
}
