"""Small PNG files written byte by byte, for icons a test needs to be wrong in one way."""

from __future__ import annotations

import struct
import zlib


def solid_png(size: int, rgba: tuple[int, int, int, int], colour_type: int = 6) -> bytes:
    """A size x size 8-bit PNG of one colour: RGBA (colour type 6) or RGB (2, alpha dropped)."""
    pixel = bytes(rgba if colour_type == 6 else rgba[:3])
    raw = b"".join(b"\x00" + pixel * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
