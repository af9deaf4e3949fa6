import json, struct, random, sys
# A case of m x n with rank r and random entries (docs/validating.md's names).
m, n, r, path = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = random.Random(1)
shapes = {"A": [m, r], "B": [n, r], "grad_A": [m, r], "grad_B": [n, r], "W_pt": [m, n], "G": [m, n],
          "L": [], "lr": [], "out.A": [m, r], "out.B": [n, r], "out.W_pt": [m, n]}
header, blobs, off = {}, [], 0
for name, shape in shapes.items():
    count = 1
    for d in shape: count *= d
    vals = [1.0 if name in ("L",) else 0.01 if name == "lr" else rng.uniform(-1, 1) for _ in range(count)]
    b = struct.pack("<%dd" % count, *vals)
    header[name] = {"dtype": "F64", "shape": shape, "data_offsets": [off, off + len(b)]}
    blobs.append(b); off += len(b)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
