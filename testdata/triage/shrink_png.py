#!/usr/bin/env python3
"""Shrink a screenshot PNG for the repository: an 8-bit RGB(A) PNG becomes a 256-colour
palette PNG (the most frequent colours; every other pixel takes the nearest of them),
compressed at zlib level 9. A page screenshot is flat colours and anti-aliased text, so
the loss does not show. Standard library only, deterministic.

    python3 testdata/triage/shrink_png.py IN.png OUT.png
"""

from __future__ import annotations

import struct
import sys
import zlib
from collections import Counter


def read_png(path: str) -> tuple[int, int, int, bytes]:
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, [], b""
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            ihdr = body
        elif kind == b"IDAT":
            idat.append(body)
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    assert depth == 8 and ctype in (2, 6) and interlace == 0, "8-bit RGB(A), not interlaced"
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    out = bytearray()
    prev = bytearray(stride)
    for y in range(h):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            if ft == 1:
                line[x] = (line[x] + a) & 255
            elif ft == 2:
                line[x] = (line[x] + b) & 255
            elif ft == 3:
                line[x] = (line[x] + ((a + b) >> 1)) & 255
            elif ft == 4:
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out += line
        prev = line
    return w, h, bpp, bytes(out)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    w, h, bpp, pixels = read_png(src)
    colours = [pixels[i:i + 3] for i in range(0, len(pixels), bpp)]
    counts = Counter(colours)
    palette = [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:256]]
    index = {c: i for i, c in enumerate(palette)}
    for c in counts:
        if c not in index:
            index[c] = min(range(len(palette)), key=lambda i: sum(
                (x - y) ** 2 for x, y in zip(c, palette[i])))
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        rows += bytes(index[c] for c in colours[y * w:(y + 1) * w])
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 3, 0, 0, 0))
    png += chunk(b"PLTE", b"".join(palette))
    png += chunk(b"IDAT", zlib.compress(bytes(rows), 9))
    png += chunk(b"IEND", b"")
    open(dst, "wb").write(png)


if __name__ == "__main__":
    main()
