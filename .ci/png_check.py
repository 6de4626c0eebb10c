#!/usr/bin/env python3
"""Checks that a PNG written by headless Chromium is a real rendering: it decodes, it is at
least the expected size, and it is not blank (enough non-background pixels and colours).
Standard library only (zlib), so CI needs no imaging package.

usage: png_check.py FILE [--min-width N] [--min-height N] [--crop X Y W H OUT]
"""
import struct
import sys
import zlib


def decode(path):
    """Returns (width, height, rows) with rows as lists of (r, g, b) tuples."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    offset, idat, header = 8, b"", None
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset:offset + 8])
        body = data[offset + 8:offset + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or interlace != 0 or colour not in (2, 6):
        raise ValueError("unsupported PNG layout %r" % (header,))
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous, position = [], bytearray(stride), 0
    for _ in range(height):
        kind = raw[position]
        line = bytearray(raw[position + 1:position + 1 + stride])
        position += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + ((left + up) >> 1)) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
                line[i] = (line[i] + predictor) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, channels)])
        previous = line
    return width, height, rows


def write_png(path, rows):
    height, width = len(rows), len(rows[0])
    raw = b"".join(b"\x00" + bytes(v for pixel in row for v in pixel) for row in rows)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                  + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main(argv):
    path = argv[1]
    options = dict(zip(argv[2::2], argv[3::2]))
    if "--crop" in argv:
        x, y, w, h = (int(v) for v in argv[argv.index("--crop") + 1:argv.index("--crop") + 5])
        _, _, rows = decode(path)
        write_png(argv[argv.index("--crop") + 5], [row[x:x + w] for row in rows[y:y + h]])
        return 0
    width, height, rows = decode(path)
    background = rows[0][0]
    # Every 4th pixel of every 4th row is enough to tell a page from a blank one.
    sample = [pixel for row in rows[::4] for pixel in row[::4]]
    ink = sum(1 for pixel in sample if sum(abs(a - b) for a, b in zip(pixel, background)) > 60)
    colours = len(set(sample))
    share = ink / max(1, len(sample))
    print("%s: %dx%d, %.1f %% ink, %d colours" % (path, width, height, share * 100, colours))
    problems = []
    if width < int(options.get("--min-width", 300)) or height < int(options.get("--min-height", 300)):
        problems.append("too small")
    if share < 0.01:
        problems.append("blank (under 1 % ink)")
    if colours < 16:
        problems.append("too few colours (%d): no text or charts drawn" % colours)
    for problem in problems:
        print("%s: %s" % (path, problem), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
