#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest tool.torch_rule.suite: the PyTorch rule of scalora_rule.py (the recipe
docs/validating.md shows) passes scalora-verify on the inputs of every case of
the conformance suite, singular M included. Per case: the inputs are read with
numpy (safetensors, .npz or a directory of .npy), the rule and steps 5-8 run in
float64, the outputs are written next to the inputs, and scalora-verify must
exit 0 (4 where the case is judged with --certified-only and expected
inconclusive: no output can make an undecidable comparison decidable). The
suite's planted outputs (verdict/*_fails, corrupt/*) are replaced by the rule's
own, which must pass; --rule bound is not passed on (the recipe is the paper's
rule). Then a minimum-norm solve's alpha_j = 0 on a zero column of A passes with
scalora-verify's note (zero_column_of_A, A_zero_init_peft). Exit 77 (skipped) where torch or numpy is missing.

usage: test_rule_suite.py --verify PATH/scalora-verify --suite DIR --workdir DIR
"""
import argparse
import json
import os
import struct
import subprocess
import sys

try:
    import numpy
    import torch
except ImportError as e:
    print("SKIP: PyTorch or numpy is not installed for %s (%s); install Debian's python3-torch" % (sys.executable, e))
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalora_rule  # noqa: E402
from scalora_torch_step import write_safetensors  # noqa: E402

NP = {"F64": numpy.float64, "F32": numpy.float32, "F16": numpy.float16}


def read_safetensors(path):
    """Floating tensors of a safetensors file as float64 numpy arrays, and its metadata."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        lo, hi = h["data_offsets"]
        raw = data[lo:hi]
        if h["dtype"] == "BF16":  # the top 16 bits of a float32
            a = (numpy.frombuffer(raw, dtype="<u2").astype(numpy.uint32) << 16).view(numpy.float32)
        elif h["dtype"] in NP:
            a = numpy.frombuffer(raw, dtype=numpy.dtype(NP[h["dtype"]]).newbyteorder("<"))
        else:
            continue  # I64 step, BOOL masks: not part of a case
        out[name] = a.astype(numpy.float64).reshape(h["shape"])
    return out, meta


def read_case(path):
    if os.path.isdir(path):
        arrays = {f[:-4]: numpy.load(os.path.join(path, f)) for f in os.listdir(path) if f.endswith(".npy")}
        meta = {}
    elif path.endswith(".npz"):
        with numpy.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        meta = {}
    else:
        arrays, meta = read_safetensors(path)
    t = {k: torch.from_numpy(numpy.asarray(v, dtype=numpy.float64).copy()) for k, v in arrays.items()
         if numpy.issubdtype(numpy.asarray(v).dtype, numpy.floating)}
    return {k: v for k, v in t.items() if not k.startswith("out.")}, meta


def rule_outputs(t, mode):
    """Steps 2-8 in the math layout, float64: the case's inputs plus out.* tensors."""
    omega = float(t["lora_scale"]) if "lora_scale" in t else 1.0
    kappa = float(t["L"]) * float(t["lr"]) * omega * omega
    alpha, beta, branch = scalora_rule.scalora_rule(t["A"], t["B"], t["grad_A"], t["grad_B"], kappa, mode)
    return scaled_outputs(t, alpha, beta), branch


def scaled_outputs(t, alpha, beta):
    """Steps 5-8 for given scalings: the case's inputs plus out.* tensors."""
    omega = float(t["lora_scale"]) if "lora_scale" in t else 1.0
    out = dict(t)
    out["out.A"], out["out.B"] = t["A"] * alpha, t["B"] * beta
    out["out.grad_A"], out["out.grad_B"] = t["grad_A"] * beta, t["grad_B"] * alpha
    if "W_pt" in t:
        out["out.W_pt"] = t["W_pt"] + omega * (t["A"] * (1 - alpha * beta)) @ t["B"].T
    for side, f in (("A", beta), ("B", alpha)):
        if "exp_avg_" + side in t:
            out["out.exp_avg_" + side] = t["exp_avg_" + side] * f
            out["out.exp_avg_sq_" + side] = t["exp_avg_sq_" + side] * f * f
    out["out.alpha"], out["out.beta"] = alpha, beta
    return out


def min_norm_check(a, name):
    """A minimum-norm solve (torch.linalg.lstsq, pinv) puts alpha_j = 0 on a zero column
    of A, which the bound does not determine: the step passes, and scalora-verify's note
    says that B's moments of column j are wiped (docs/validating.md)."""
    inputs, _ = read_case(os.path.join(a.suite, name + ".safetensors"))
    out, _ = rule_outputs(inputs, "hybrid")
    zero = (inputs["A"] == 0).all(0)
    alpha = torch.where(zero, torch.zeros_like(out["out.alpha"]), out["out.alpha"])
    path = os.path.join(a.workdir, name + "_min_norm.safetensors")
    write_safetensors(path, scaled_outputs(inputs, alpha, out["out.beta"]), {"scalora.compute_dtype": "F64"})
    p = subprocess.run([a.verify, "--json", path], capture_output=True, text=True)
    notes = json.loads(p.stdout)["cases"][0].get("notes", []) if p.stdout.strip() else []
    cols = [int(j) for j in torch.nonzero(zero).flatten()]
    ok = p.returncode == 0 and bool(cols) and all(
        any(("alpha_%d = 0" % j) in n and ("wipes column %d of B" % j) in n for n in notes) for j in cols)
    print("%-5s %-48s min-norm alpha_j = 0 on columns %s: exit %d, notes %s"
          % ("ok" if ok else "FAIL", name, cols, p.returncode, [n for n in notes if n.startswith("alpha_")]))
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    with open(os.path.join(a.suite, "manifest.json")) as f:
        manifest = json.load(f)
    passed, failed = 0, []
    for case in manifest["cases"]:
        inputs, meta = read_case(os.path.join(a.suite, case["file"]))
        mode = "scalar" if case["mode"] == "scalar" else "hybrid"
        tensors, branch = rule_outputs(inputs, mode)
        path = os.path.join(a.workdir, case["name"].replace("/", "_") + ".safetensors")
        write_safetensors(path, tensors, {"scalora.compute_dtype": "F64", "scalora.mode": mode,
                                          "generator": "test_rule_suite.py"})
        args = [x for x in case["verify_args"] if x not in ("--rule", "bound")]
        want = 4 if "--certified-only" in args and case["expect"] == "inconclusive" else 0
        p = subprocess.run([a.verify, "--json", *args, path], capture_output=True, text=True)
        ok = p.returncode == want
        line = "%-5s %-48s %-7s exit %d (want %d)" % ("ok" if ok else "FAIL", case["name"], branch, p.returncode, want)
        if not ok:
            try:
                doc = json.loads(p.stdout)["cases"][0]
                bad = [(c["id"], c["value"], c["tolerance"], c["detail"]) for c in doc["checks"]
                       if c["status"] in ("fail", "inconclusive")]
                line += "\n      %s" % bad
            except (ValueError, KeyError, IndexError):
                line += "\n      " + p.stderr.strip()
            failed.append(case["name"])
        else:
            passed += 1
        print(line)
    for name in ("zero_column_of_A", "A_zero_init_peft"):
        if min_norm_check(a, name):
            passed += 1
        else:
            failed.append(name + " (min-norm)")
    print("%d passed, %d failed" % (passed, len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
