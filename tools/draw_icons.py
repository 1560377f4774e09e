"""Draw the Teams app's two icons into appPackage/: a white bell, on the accent colour for
color.png (192x192) and on transparency for outline.png (32x32, white only, as Teams asks).

A dev-only script, run once and its PNGs committed; standard library only, so it needs no image
package. Edges are anti-aliased by 4x4 supersampling: coverage becomes alpha on the outline and a
blend with the background on the colour icon.

    python tools/draw_icons.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

APP_PACKAGE = Path(__file__).resolve().parent.parent / "appPackage"
ACCENT = (0x1F, 0x6F, 0xEB)  # the manifest's accentColor
WHITE = (255, 255, 255)
SAMPLES = 4


def in_bell(x: float, y: float) -> bool:
    """Whether (x, y), in a unit square with y downwards, lies in the bell."""
    dx = x - 0.5
    knob = dx * dx + (y - 0.19) ** 2 <= 0.045**2
    dome = y <= 0.42 and dx * dx + (y - 0.42) ** 2 <= 0.22**2
    # Below the dome the sides flare out towards the rim.
    body = 0.42 <= y <= 0.68 and abs(dx) <= 0.22 + (y - 0.42) * 0.3
    rim = 0.66 <= y <= 0.72 and abs(dx) <= 0.33
    clapper = dx * dx + (y - 0.79) ** 2 <= 0.065**2
    return knob or dome or body or rim or clapper


def coverage(size: int, scale: float) -> list[list[float]]:
    """The share of each pixel the bell covers, drawn `scale` times the square's size."""
    rows = []
    for row in range(size):
        line = []
        for column in range(size):
            hits = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (column + (sx + 0.5) / SAMPLES) / size
                    y = (row + (sy + 0.5) / SAMPLES) / size
                    hits += in_bell(0.5 + (x - 0.5) / scale, 0.5 + (y - 0.5) / scale)
            line.append(hits / SAMPLES**2)
        rows.append(line)
    return rows


def png(pixels: list[list[tuple[int, int, int, int]]]) -> bytes:
    """An 8-bit RGBA PNG of these rows of pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    height, width = len(pixels), len(pixels[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def color_icon() -> bytes:
    # The bell keeps inside the middle of the tile, clear of Teams' rounded corners.
    blend = [
        [(*(round(b + (w - b) * c) for b, w in zip(ACCENT, WHITE, strict=True)), 255) for c in line]
        for line in coverage(192, 0.7)
    ]
    return png(blend)


def outline_icon() -> bytes:
    return png([[(*WHITE, round(255 * c)) for c in line] for line in coverage(32, 1.05)])


def main() -> None:
    (APP_PACKAGE / "color.png").write_bytes(color_icon())
    (APP_PACKAGE / "outline.png").write_bytes(outline_icon())


if __name__ == "__main__":
    main()
