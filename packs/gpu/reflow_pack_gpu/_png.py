"""PNG encoding of ``uint8`` images ``[H, W, C]`` with numpy and zlib (what the renderers send)."""

from __future__ import annotations

import struct
import zlib
from typing import Any

from reflow_cli.tensors import np

__all__ = ["encode_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def encode_png(image: Any, level: int = 6) -> bytes:
    """PNG bytes of a ``uint8`` array ``[H, W, C]`` (C = 1, 2, 3 or 4), rows filtered with Up."""
    numpy = np()
    image = numpy.asarray(image, dtype=numpy.uint8)
    if image.ndim == 2:
        image = image[:, :, None]
    height, width, channels = image.shape
    colour = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    rows = numpy.ascontiguousarray(image).reshape(height, -1)
    filtered = numpy.empty((height, rows.shape[1] + 1), dtype=numpy.uint8)
    filtered[:, 0] = 2
    filtered[0, 1:] = rows[0]
    filtered[1:, 1:] = rows[1:] - rows[:-1]
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"".join([PNG_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", zlib.compress(filtered.tobytes(), level)),
                     _chunk(b"IEND", b"")])
