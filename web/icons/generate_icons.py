"""Regenerate the PWA icons with the standard library only (no Pillow): ``python web/icons/generate_icons.py``.

Draws two beamed eighth notes on a violet gradient: ``icon-192.png`` and ``icon-512.png`` (rounded
square, transparent corners), ``maskable-512.png`` (full bleed, the notes inside the 80 % safe
zone), ``apple-touch-icon.png`` (180, opaque) and ``../favicon.ico`` (a 32-px PNG inside an ICO).
"""

from __future__ import annotations

import math
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = (0x7C, 0x4D, 0xFF)  # violet
BOTTOM = (0x2A, 0x12, 0x6B)  # deep indigo
NOTE = (0xFF, 0xFF, 0xFF)


def _png(width: int, height: int, rows: list[bytes]) -> bytes:
    raw = b"".join(b"\x00" + row for row in rows)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def _in_note(x: float, y: float) -> bool:
    """Two beamed eighth notes in a unit square (0..1), centred."""
    for cx in (0.33, 0.67):
        cy = 0.70 if cx < 0.5 else 0.64
        # note head: an ellipse tilted by -20 degrees
        dx, dy = x - cx, y - cy
        a = math.radians(-20)
        u = dx * math.cos(a) - dy * math.sin(a)
        v = dx * math.sin(a) + dy * math.cos(a)
        if (u / 0.105) ** 2 + (v / 0.075) ** 2 <= 1:
            return True
        # stem on the right of the head
        sx = cx + 0.085
        top = 0.26 if cx < 0.5 else 0.20
        if sx - 0.03 <= x <= sx and top <= y <= cy:
            return True
    # beam: a parallelogram joining the stem tops
    x0, x1 = 0.385, 0.755
    if x0 <= x <= x1:
        t = (x - x0) / (x1 - x0)
        y_top = 0.26 + (0.20 - 0.26) * t
        if y_top <= y <= y_top + 0.085:
            return True
    return False


def render(size: int, *, scale: float, rounded: bool, samples: int = 3) -> bytes:
    rows = []
    radius = 0.22 * size
    for py in range(size):
        row = bytearray()
        for px in range(size):
            cover = 0
            for sy in range(samples):
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples) / size
                    y = (py + (sy + 0.5) / samples) / size
                    nx = (x - 0.5) / scale + 0.5
                    ny = (y - 0.5) / scale + 0.5
                    cover += _in_note(nx, ny)
            alpha_note = cover / samples**2
            t = py / max(1, size - 1)
            bg = [round(TOP[i] * (1 - t) + BOTTOM[i] * t) for i in range(3)]
            rgb = [round(bg[i] * (1 - alpha_note) + NOTE[i] * alpha_note) for i in range(3)]
            alpha = 255
            if rounded:
                # distance outside the rounded rectangle, with a one-pixel soft edge
                qx = max(abs(px + 0.5 - size / 2) - (size / 2 - radius), 0)
                qy = max(abs(py + 0.5 - size / 2) - (size / 2 - radius), 0)
                d = math.hypot(qx, qy) - radius
                alpha = round(255 * min(1.0, max(0.0, 0.5 - d)))
            row += bytes((*rgb, alpha))
        rows.append(bytes(row))
    return _png(size, size, rows)


def ico_from_png(png: bytes, size: int) -> bytes:
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def main() -> None:
    (HERE / "icon-192.png").write_bytes(render(192, scale=1.0, rounded=True))
    (HERE / "icon-512.png").write_bytes(render(512, scale=1.0, rounded=True, samples=2))
    (HERE / "maskable-512.png").write_bytes(render(512, scale=0.72, rounded=False, samples=2))
    (HERE / "apple-touch-icon.png").write_bytes(render(180, scale=0.85, rounded=False))
    (HERE.parent / "favicon.ico").write_bytes(ico_from_png(render(32, scale=1.0, rounded=True, samples=4), 32))


if __name__ == "__main__":
    main()
