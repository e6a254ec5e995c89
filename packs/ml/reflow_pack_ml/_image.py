"""Image ops: decode, encode, resize, crop, grayscale; and turning images into model inputs (normalise, to-tensor).

Images travel as tensors: ``uint8`` ``[H, W, C]`` (C = 1, 3 or 4), the layout
image files have. ``tpl_ml_to_tensor`` turns them into what a model wants
(``NCHW`` float32, say).
"""

from __future__ import annotations

from typing import Any

from reflow_cli import Message, PortSpec

from ._codec import ImageError, decode_image, encode_png
from ._common import TENSOR, MlActor, error_port, schema
from reflow_cli.tensors import array_message, np

__all__ = ["COMPONENTS"]

IMAGE = "an image tensor uint8 [H, W, C]"


def _image(array: Any, what: str = "image") -> Any:
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3:
        raise ImageError(f"{what} must be [H, W, C] (or [H, W]), not shape {list(array.shape)}")
    return array


class DecodeImage(MlActor):
    """Decodes image bytes into an image tensor."""

    component = "tpl_ml_decode_image"
    inports = [PortSpec("input", "Bytes", "encoded image bytes (PNG, PGM/PPM; JPEG, BMP, GIF... with Pillow)")]
    outports = [PortSpec("image", "Object", IMAGE), error_port("bytes that are not an image")]
    config_schema = schema({
        "mode": {"type": "string", "enum": ["rgb", "rgba", "gray", "keep"], "default": "rgb",
                 "description": "Channels of the result: rgb (3), rgba (4), gray (1) or keep the file's own."},
    })
    description = (
        "Decodes PNG and binary PGM/PPM files with numpy alone (every format Pillow reads when it is installed) "
        "into a uint8 [H, W, C] image tensor with `mode`'s channels."
    )
    example = {
        "config": {"mode": "gray"},
        "inputs": {"input": [{"type": "Bytes", "data": list(b"P5 2 1 255\n\x00\xff")}]},
        "outputs": {"image": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 2, 1],
                                                         "data": {"type": "Bytes", "data": [0, 255]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        if message["type"] != "Bytes":
            raise ImageError(f"expected Bytes of an image file, got {message['type']}")
        image = decode_image(message["data"])
        return {"image": array_message(convert_mode(image, config["mode"]))}


def convert_mode(image: Any, mode: str) -> Any:
    """``image`` [H, W, C] with the channels ``mode`` asks for (rgb, rgba, gray, keep)."""
    numpy = np()
    channels = image.shape[2]
    if image.dtype != numpy.uint8 and mode != "keep":
        image = (image >> 8).astype(numpy.uint8)
    if mode == "keep":
        return image
    colour = image[:, :, :3] if channels >= 3 else numpy.repeat(image[:, :, :1], 3, axis=2)
    alpha = image[:, :, 3:4] if channels == 4 else (image[:, :, 1:2] if channels == 2 else None)
    if mode == "rgb":
        return numpy.ascontiguousarray(colour)
    if mode == "rgba":
        if alpha is None:
            alpha = numpy.full(image.shape[:2] + (1,), 255, dtype=numpy.uint8)
        return numpy.concatenate([colour, alpha], axis=2)
    return gray(colour) if channels >= 3 else numpy.ascontiguousarray(image[:, :, :1])


def gray(rgb: Any) -> Any:
    """ITU-R BT.601 luma of an RGB image, rounded, as uint8 [H, W, 1]."""
    numpy = np()
    weights = numpy.array([0.299, 0.587, 0.114], dtype=numpy.float32)
    luma = rgb[:, :, :3].astype(numpy.float32) @ weights
    return numpy.clip(numpy.rint(luma), 0, 255).astype(numpy.uint8)[:, :, None]


def _png_of_seven() -> list[int]:
    """The PNG bytes of a 1x1 grey image of value 7 (EncodeImage's example)."""
    import struct
    import zlib

    from ._codec import PNG_SIGNATURE, _chunk

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return list(PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x02\x07", 6))
                + _chunk(b"IEND", b""))


class EncodeImage(MlActor):
    """Encodes an image tensor as PNG bytes."""

    component = "tpl_ml_encode_image"
    inports = [PortSpec("input", "Object", IMAGE + " (uint16 too; floats with `scale`)")]
    outports = [PortSpec("output", "Bytes", "PNG bytes"), error_port("a tensor that is not an image")]
    config_schema = schema({
        "scale": {"type": "number", "default": 1.0,
                  "description": "Multiply float pixels by this before rounding to uint8 (255 for images in 0..1)."},
        "compression": {"type": "integer", "minimum": 0, "maximum": 9, "default": 6, "description": "zlib level."},
    })
    description = "Encodes a [H, W, C] (or [H, W]) image tensor as PNG; float tensors are scaled, rounded and clipped to uint8."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 1], "data": [7]}}]},
        "outputs": {"output": [{"type": "Bytes", "data": _png_of_seven()}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        image = _image(self.array(message))
        if image.dtype.kind == "f":
            image = numpy.clip(numpy.rint(image * config["scale"]), 0, 255).astype(numpy.uint8)
        elif image.dtype not in (numpy.uint8, numpy.uint16):
            image = numpy.clip(image, 0, 255).astype(numpy.uint8)
        return {"output": Message.bytes(encode_png(image, config["compression"]))}


def resize(image: Any, height: int, width: int, interpolation: str = "bilinear") -> Any:
    """``image`` [H, W, C] resized to ``height`` × ``width`` (half-pixel centres, as OpenCV's INTER_LINEAR)."""
    numpy = np()
    in_h, in_w = image.shape[:2]
    if interpolation == "nearest":
        ys = numpy.minimum((numpy.arange(height) * in_h) // height, in_h - 1)
        xs = numpy.minimum((numpy.arange(width) * in_w) // width, in_w - 1)
        return numpy.ascontiguousarray(image[ys][:, xs])
    ys = numpy.clip((numpy.arange(height, dtype=numpy.float32) + 0.5) * (in_h / height) - 0.5, 0, in_h - 1)
    xs = numpy.clip((numpy.arange(width, dtype=numpy.float32) + 0.5) * (in_w / width) - 0.5, 0, in_w - 1)
    y0 = numpy.floor(ys).astype(numpy.intp)
    x0 = numpy.floor(xs).astype(numpy.intp)
    y1 = numpy.minimum(y0 + 1, in_h - 1)
    x1 = numpy.minimum(x0 + 1, in_w - 1)
    wy = (ys - y0)[:, None, None]
    wx = (xs - x0)[None, :, None]
    source = image.astype(numpy.float32)
    top = source[y0][:, x0] * (1 - wx) + source[y0][:, x1] * wx
    bottom = source[y1][:, x0] * (1 - wx) + source[y1][:, x1] * wx
    out = top * (1 - wy) + bottom * wy
    if image.dtype.kind in "ui":
        info = numpy.iinfo(image.dtype)
        return numpy.clip(numpy.rint(out), info.min, info.max).astype(image.dtype)
    return out.astype(image.dtype)


class Resize(MlActor):
    """Resizes an image tensor."""

    component = "tpl_ml_resize"
    inports = [PortSpec("input", "Object", IMAGE)]
    outports = [PortSpec("output", "Object", "the resized image (same dtype)"), error_port("not an image tensor")]
    config_schema = schema({
        "width": {"type": "integer", "minimum": 1, "description": "Width of the result in pixels."},
        "height": {"type": "integer", "minimum": 1, "description": "Height of the result in pixels."},
        "interpolation": {"type": "string", "enum": ["bilinear", "nearest"], "default": "bilinear",
                          "description": "bilinear (half-pixel centres, as OpenCV's INTER_LINEAR) or nearest."},
        "keep_aspect": {"type": "boolean", "default": False,
                        "description": "Scale the shorter side to fit width×height and keep the aspect ratio "
                        "(the result may be smaller in one dimension)."},
    }, required=("width", "height"))
    description = "Resizes a [H, W, C] image tensor to `width`×`height` (bilinear or nearest)."
    example = {
        "config": {"width": 1, "height": 1},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "uint8", "shape": [2, 2, 1], "data": [0, 100, 100, 200]}}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 1],
                                                          "data": {"type": "Bytes", "data": [100]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        image = _image(self.array(message))
        height, width = config["height"], config["width"]
        if config["keep_aspect"]:
            factor = min(height / image.shape[0], width / image.shape[1])
            height, width = max(1, round(image.shape[0] * factor)), max(1, round(image.shape[1] * factor))
        return {"output": array_message(resize(image, height, width, config["interpolation"]))}


class Crop(MlActor):
    """Crops a region out of an image tensor."""

    component = "tpl_ml_crop"
    inports = [PortSpec("input", "Object", IMAGE)]
    outports = [PortSpec("output", "Object", "the cropped image"), error_port("a region outside the image")]
    config_schema = schema({
        "x": {"type": "integer", "minimum": 0, "default": 0, "description": "Left edge (ignored when `center`)."},
        "y": {"type": "integer", "minimum": 0, "default": 0, "description": "Top edge (ignored when `center`)."},
        "width": {"type": "integer", "minimum": 1, "description": "Width of the region."},
        "height": {"type": "integer", "minimum": 1, "description": "Height of the region."},
        "center": {"type": "boolean", "default": False, "description": "Take the region from the image's centre."},
    }, required=("width", "height"))
    description = "Crops `width`×`height` pixels at (`x`, `y`), or from the centre; a region beyond the image is an error."
    example = {
        "config": {"x": 1, "y": 0, "width": 1, "height": 1},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 2, 1], "data": [5, 9]}}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 1],
                                                          "data": {"type": "Bytes", "data": [9]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        image = _image(self.array(message))
        h, w = image.shape[:2]
        width, height = config["width"], config["height"]
        if config["center"]:
            x, y = (w - width) // 2, (h - height) // 2
        else:
            x, y = config["x"], config["y"]
        if x < 0 or y < 0 or x + width > w or y + height > h:
            raise ImageError(f"the region {width}x{height} at ({x}, {y}) is outside the {w}x{h} image")
        return {"output": array_message(image[y:y + height, x:x + width])}


class Grayscale(MlActor):
    """Turns an RGB(A) image tensor into grey."""

    component = "tpl_ml_grayscale"
    inports = [PortSpec("input", "Object", "an image tensor uint8 [H, W, 3 or 4]")]
    outports = [PortSpec("output", "Object", "uint8 [H, W, 1] (or [H, W, 3] with keep_channels)"),
                error_port("not an RGB image")]
    config_schema = schema({
        "keep_channels": {"type": "boolean", "default": False,
                          "description": "Repeat the grey value into 3 channels instead of returning 1."},
    })
    description = "Grey = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), rounded; alpha is dropped."
    example = {
        "config": {},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 3], "data": [255, 0, 0]}}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "uint8", "shape": [1, 1, 1],
                                                          "data": {"type": "Bytes", "data": [76]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        image = _image(self.array(message))
        if image.shape[2] < 3:
            raise ImageError(f"expected an RGB or RGBA image, got {image.shape[2]} channel(s)")
        out = gray(image)
        if config["keep_channels"]:
            out = numpy.repeat(out, 3, axis=2)
        return {"output": array_message(out)}


class Normalize(MlActor):
    """Scales and standardises a tensor: (x × scale − mean) / std per channel."""

    component = "tpl_ml_normalize"
    inports = [PortSpec("input", "Object", TENSOR)]
    outports = [PortSpec("output", "Object", "a float32 tensor of the same shape"), error_port("not a tensor")]
    config_schema = schema({
        "scale": {"type": "number", "default": 1 / 255, "description": "Multiply by this first (1/255 maps uint8 to 0..1)."},
        "mean": {"type": "array", "items": {"type": "number"}, "default": [0.0],
                 "description": "Subtract per channel (one value, or one per channel)."},
        "std": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}, "default": [1.0],
                "description": "Divide per channel (one value, or one per channel)."},
        "channel_axis": {"type": "integer", "default": -1,
                         "description": "The channel axis: -1 for [H, W, C] images, 1 for NCHW tensors."},
    })
    description = "(x × `scale` − `mean`) / `std`, per channel along `channel_axis`, as float32 (ImageNet: mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225])."
    example = {
        "config": {"scale": 1.0, "mean": [1.0], "std": [2.0]},
        "inputs": {"input": [{"type": "Object", "data": {"dtype": "float32", "shape": [2], "data": [3, 5]}}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "float32", "shape": [2],
                                                          "data": {"type": "Bytes", "data": [0, 0, 128, 63, 0, 0, 0, 64]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        array = self.array(message).astype(numpy.float32)
        mean = numpy.asarray(config["mean"], dtype=numpy.float32)
        std = numpy.asarray(config["std"], dtype=numpy.float32)
        axis = config["channel_axis"]
        if array.ndim == 0:
            raise ValueError("cannot normalise a scalar tensor")
        channels = array.shape[axis]
        for name, value in (("mean", mean), ("std", std)):
            if value.size not in (1, channels):
                raise ValueError(f"{name} has {value.size} values; the tensor has {channels} channels on axis {axis}")
        shape = [1] * array.ndim
        shape[axis] = -1
        out = (array * numpy.float32(config["scale"]) - mean.reshape(shape if mean.size > 1 else [1] * array.ndim)) / (
            std.reshape(shape if std.size > 1 else [1] * array.ndim)
        )
        return {"output": array_message(out.astype(numpy.float32))}


class ToTensor(MlActor):
    """Turns an image (or an Array of numbers) into a model input tensor."""

    component = "tpl_ml_to_tensor"
    inports = [PortSpec("input", None, "an image tensor [H, W, C], any tensor, or an Array of numbers (nested lists)")]
    outports = [PortSpec("output", "Object", TENSOR), error_port("not an image, tensor or numeric Array")]
    config_schema = schema({
        "layout": {"type": "string", "enum": ["NCHW", "NHWC", "CHW", "HWC", "keep"], "default": "NCHW",
                   "description": "Axis order of the result for [H, W, C] input; N adds a batch axis of 1. "
                   "keep leaves the shape alone (Arrays, other tensors)."},
        "dtype": {"type": "string", "enum": ["float32", "float64", "float16", "int64", "int32", "uint8"],
                  "default": "float32", "description": "Element type of the result."},
        "scale": {"type": "number", "default": 1.0, "description": "Multiply by this (1/255 maps uint8 pixels to 0..1)."},
    })
    description = "Transposes a [H, W, C] image to `layout` (NCHW by default), casts it to `dtype` and scales it; an Array becomes a tensor of its own shape."
    example = {
        "config": {"layout": "keep", "dtype": "int64"},
        "inputs": {"input": [{"type": "Array", "data": [[1, 2]]}]},
        "outputs": {"output": [{"type": "Object", "data": {"dtype": "int64", "shape": [1, 2], "data": {
            "type": "Bytes", "data": [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]}}}]},
    }

    def process(self, message: Message, config: dict[str, Any], ctx: Any) -> dict[str, Any]:
        numpy = np()
        array = self.array(message)
        layout = config["layout"]
        if layout != "keep":
            image = _image(array, "the input of a layout change")
            if layout in ("NCHW", "CHW"):
                image = image.transpose(2, 0, 1)
            array = image[None] if layout.startswith("N") else image
        if array.dtype.kind not in "biuf":
            raise ValueError(f"expected numbers, got dtype {array.dtype.name}")
        out = array.astype(numpy.float64) * config["scale"] if config["scale"] != 1.0 else array
        return {"output": array_message(numpy.asarray(out).astype(config["dtype"]))}


COMPONENTS = {
    "tpl_ml_decode_image": DecodeImage,
    "tpl_ml_encode_image": EncodeImage,
    "tpl_ml_resize": Resize,
    "tpl_ml_crop": Crop,
    "tpl_ml_grayscale": Grayscale,
    "tpl_ml_normalize": Normalize,
    "tpl_ml_to_tensor": ToTensor,
}
