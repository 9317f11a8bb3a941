"""pngcheck.py PNG WIDTH HEIGHT - checks a screenshot of the HTML report:
the size asked for, not blank, and the charts' colours actually painted
(bars in the green of "paid", the blue of "issued" / "redeemed, not yet
claimed" and the red of "clawed back", taller than a legend swatch). A plain PNG decoder: no third-party modules.
"""
import struct
import sys
import zlib


def decode(path):
    d = open(path, "rb").read()
    if d[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit("FAIL: %s is not a PNG" % path)
    pos, idat = 8, b""
    while pos < len(d):
        n, = struct.unpack(">I", d[pos:pos + 4])
        t, c = d[pos + 4:pos + 8], d[pos + 8:pos + 8 + n]
        pos += 12 + n
        if t == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", c[:10])
        elif t == b"IDAT":
            idat += c
    if depth != 8 or ctype not in (2, 6):
        sys.exit("FAIL: unexpected PNG format (depth %d, colour type %d)" % (depth, ctype))
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    prev, i, rows = bytearray(stride), 0, []
    for _ in range(h):
        f = raw[i]
        line = bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        if f == 1:
            for x in range(bpp, stride):
                line[x] = (line[x] + line[x - bpp]) & 255
        elif f == 2:
            for x in range(stride):
                line[x] = (line[x] + prev[x]) & 255
        elif f == 3:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                line[x] = (line[x] + (a + prev[x]) // 2) & 255
        elif f == 4:
            for x in range(stride):
                a = line[x - bpp] if x >= bpp else 0
                b = prev[x]
                c = prev[x - bpp] if x >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def main():
    path, want_w, want_h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    w, h, bpp, rows = decode(path)
    if (w, h) != (want_w, want_h):
        sys.exit("FAIL: screenshot is %dx%d, expected %dx%d" % (w, h, want_w, want_h))
    colours = {"paid green": (0x2e, 0x7d, 0x32), "blue": (0x1e, 0x6f, 0xd0),
               "clawed-back red": (0xc6, 0x28, 0x28)}
    # a chart's bar, not a legend swatch (12 px): a run of one colour at
    # least 16 px tall in some column
    found = dict.fromkeys(colours, 0)
    run = {k: [0] * w for k in colours}
    ink = 0
    for y, row in enumerate(rows):
        for x in range(0, w, 2):
            o = x * bpp
            px = (row[o], row[o + 1], row[o + 2])
            if y % 2 == 0 and px != (255, 255, 255):
                ink += 1
            for k, c in colours.items():
                r = run[k]
                if abs(px[0] - c[0]) <= 6 and abs(px[1] - c[1]) <= 6 and abs(px[2] - c[2]) <= 6:
                    r[x] += 1
                    if r[x] == 16:
                        found[k] += 1
                else:
                    r[x] = 0
    total = ((h + 1) // 2) * ((w + 1) // 2)
    if ink < total // 50:
        sys.exit("FAIL: the screenshot is (nearly) blank: %d of %d pixels inked" % (ink, total))
    missing = [k for k, n in found.items() if n < 3]
    if missing:
        sys.exit("FAIL: chart colours not painted: %s (%s)" % (", ".join(missing), found))
    print("png ok: %dx%d, %d%% inked, chart colours %s" % (w, h, 100 * ink // total, found))


main()
