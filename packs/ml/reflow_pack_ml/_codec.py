"""Image files ↔ ``uint8`` arrays ``[H, W, C]``, with numpy and zlib only.

PNG (8- and 16-bit, grey, grey+alpha, RGB, RGBA, palette; not interlaced),
and binary PGM/PPM (P5/P6) are read here. When Pillow is installed, every
format it knows (JPEG, BMP, GIF, WebP, interlaced PNG...) is read through it
instead. Encoding writes PNG.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

from reflow_cli.tensors import np

__all__ = ["ImageError", "decode_image", "encode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


class ImageError(ValueError):
    """Bytes that are not an image this pack can read, or an array that is not an image."""


def decode_image(data: bytes) -> Any:
    """``uint8`` (or ``uint16`` for 16-bit PNG) array ``[H, W, C]`` of an encoded image."""
    try:
        from PIL import Image  # noqa: F401 - optional: reads every format Pillow knows
    except ImportError:
        return _decode_builtin(data)
    return _decode_pillow(data)


def _decode_pillow(data: bytes) -> Any:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.mode == "P":
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
            elif image.mode not in ("L", "LA", "RGB", "RGBA", "I;16"):
                image = image.convert("RGBA" if "A" in image.mode else "RGB")
            array = np().asarray(image)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageError(f"cannot decode the image: {exc}") from None
    return array[:, :, None] if array.ndim == 2 else array


def _decode_builtin(data: bytes) -> Any:
    if data[:8] == PNG_SIGNATURE:
        return _decode_png(data)
    if data[:2] in (b"P5", b"P6"):
        return _decode_pnm(data)
    raise ImageError(
        "cannot decode the image: not a PNG or binary PGM/PPM (install Pillow for JPEG, BMP, GIF and more)"
    )


def _chunks(data: bytes) -> Any:
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ImageError("cannot decode the PNG: a chunk is cut short")
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return


def _decode_png(data: bytes) -> Any:
    numpy = np()
    header = palette = transparency = None
    idat: list[bytes] = []
    for kind, body in _chunks(data):
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            transparency = body
        elif kind == b"IDAT":
            idat.append(body)
    if header is None or not idat:
        raise ImageError("cannot decode the PNG: no IHDR or IDAT chunk")
    width, height, depth, colour, _, _, interlace = header
    if colour not in _CHANNELS or depth not in (1, 2, 4, 8, 16):
        raise ImageError(f"cannot decode the PNG: colour type {colour} with bit depth {depth}")
    if interlace:
        raise ImageError("cannot decode an interlaced PNG without Pillow (pip install pillow)")
    channels = _CHANNELS[colour]
    bits = channels * depth
    stride = (width * bits + 7) // 8
    bpp = max(1, bits // 8)
    try:
        raw = zlib.decompress(b"".join(idat))
    except zlib.error as exc:
        raise ImageError(f"cannot decode the PNG: {exc}") from None
    if len(raw) < height * (stride + 1):
        raise ImageError("cannot decode the PNG: image data is cut short")
    rows = numpy.frombuffer(raw, dtype=numpy.uint8, count=height * (stride + 1)).reshape(height, stride + 1)
    out = numpy.zeros((height, stride), dtype=numpy.uint8)
    prior = numpy.zeros(stride, dtype=numpy.uint8)
    for y in range(height):
        kind, line = rows[y, 0], rows[y, 1:]
        if kind == 0:
            recon = line.copy()
        elif kind == 1:  # Sub: a running sum per byte of a pixel
            padded = numpy.zeros(((stride + bpp - 1) // bpp) * bpp, dtype=numpy.uint8)
            padded[:stride] = line
            recon = numpy.cumsum(padded.reshape(-1, bpp), axis=0, dtype=numpy.uint8).reshape(-1)[:stride]
        elif kind == 2:  # Up
            recon = line + prior
        elif kind in (3, 4):
            recon = _unfilter_slow(kind, line, prior, bpp)
        else:
            raise ImageError(f"cannot decode the PNG: unknown row filter {kind}")
        out[y] = recon
        prior = out[y]
    if depth == 16:
        pixels = out.view(">u2").reshape(height, width, channels).astype(numpy.uint16)
    elif depth == 8:
        pixels = out.reshape(height, width, channels)
    else:
        unpacked = numpy.unpackbits(out, axis=1)[:, : width * bits].reshape(height, width * channels, depth)
        weights = (1 << numpy.arange(depth - 1, -1, -1)).astype(numpy.uint8)
        pixels = (unpacked * weights).sum(axis=2).astype(numpy.uint8).reshape(height, width, channels)
        if colour == 0:  # scale grey to 0..255
            pixels = (pixels.astype(numpy.uint16) * 255 // ((1 << depth) - 1)).astype(numpy.uint8)
    if colour == 3:
        if palette is None:
            raise ImageError("cannot decode the PNG: a palette image without PLTE")
        table = numpy.frombuffer(palette, dtype=numpy.uint8).reshape(-1, 3)
        if transparency:
            alpha = numpy.full(len(table), 255, dtype=numpy.uint8)
            alpha[: len(transparency)] = numpy.frombuffer(transparency, dtype=numpy.uint8)[: len(table)]
            table = numpy.concatenate([table, alpha[:, None]], axis=1)
        index = pixels[:, :, 0]
        if index.max(initial=0) >= len(table):
            raise ImageError("cannot decode the PNG: a palette index out of range")
        pixels = table[index]
    return numpy.ascontiguousarray(pixels)


def _unfilter_slow(kind: int, line: Any, prior: Any, bpp: int) -> Any:
    """Average (3) and Paeth (4) depend on the byte just decoded: one byte at a time."""
    numpy = np()
    src = line.tobytes()
    up = prior.tobytes()
    out = bytearray(len(src))
    for i in range(len(src)):
        left = out[i - bpp] if i >= bpp else 0
        above = up[i]
        if kind == 3:
            out[i] = (src[i] + ((left + above) >> 1)) & 0xFF
        else:
            corner = up[i - bpp] if i >= bpp else 0
            p = left + above - corner
            pa, pb, pc = abs(p - left), abs(p - above), abs(p - corner)
            predictor = left if pa <= pb and pa <= pc else (above if pb <= pc else corner)
            out[i] = (src[i] + predictor) & 0xFF
    return numpy.frombuffer(bytes(out), dtype=numpy.uint8)


def _decode_pnm(data: bytes) -> Any:
    numpy = np()
    fields: list[bytes] = []
    pos = 2
    while len(fields) < 3:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        start = pos
        while pos < len(data) and not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    try:
        width, height, maximum = (int(f) for f in fields)
    except ValueError:
        raise ImageError("cannot decode the PGM/PPM header") from None
    channels = 1 if data[:2] == b"P5" else 3
    dtype = numpy.uint8 if maximum < 256 else numpy.dtype(">u2")
    count = width * height * channels
    try:
        pixels = numpy.frombuffer(data, dtype=dtype, count=count, offset=pos)
    except ValueError:
        raise ImageError("cannot decode the PGM/PPM: image data is cut short") from None
    return pixels.reshape(height, width, channels).astype(numpy.uint8 if maximum < 256 else numpy.uint16)


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def encode_png(array: Any, level: int = 6) -> bytes:
    """PNG bytes of a ``uint8``/``uint16`` array ``[H, W]`` or ``[H, W, C]`` (C = 1, 2, 3 or 4)."""
    numpy = np()
    array = numpy.asarray(array)
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"an image is [H, W] or [H, W, C] with C in 1..4, not shape {list(array.shape)}")
    if array.dtype == numpy.uint16:
        depth, body = 16, array.astype(">u2")
    elif array.dtype == numpy.uint8:
        depth, body = 8, array
    else:
        raise ImageError(f"PNG holds uint8 or uint16 pixels, not {array.dtype.name}; scale and cast first")
    height, width, channels = array.shape
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = numpy.ascontiguousarray(body).view(numpy.uint8).reshape(height, -1)
    # the Up filter: cheap to compute for every row at once, and it compresses images well
    filtered = numpy.empty((height, rows.shape[1] + 1), dtype=numpy.uint8)
    filtered[:, 0] = 2
    filtered[0, 1:] = rows[0]
    filtered[1:, 1:] = rows[1:] - rows[:-1]
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"".join([
        PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", zlib.compress(filtered.tobytes(), level)),
        _chunk(b"IEND", b""),
    ])
