#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""CTest tool.torch_client: the PyTorch client's clean ScaLoRA step passes
scalora-verify, and each planted bug is rejected by the check that states the
broken property. Exit 77 (skipped) where torch is not installed.

usage: test_torch_client.py --verify PATH/scalora-verify --workdir DIR
"""
import argparse
import json
import os
import subprocess
import sys

try:
    import torch  # noqa: F401
except ImportError as e:
    print("SKIP: PyTorch is not installed for %s (%s); install Debian's python3-torch "
          "(.ci/install-deps.sh does)" % (sys.executable, e))
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scalora_torch_step as client  # noqa: E402

MOMENTS = {"out.exp_avg_A", "out.exp_avg_sq_A", "out.exp_avg_B", "out.exp_avg_sq_B"}
SCALING = {"optimality"}
# bug -> (checks that must fail, checks that may fail besides them)
EXPECTED = {
    "moments-not-transferred": ({"out.exp_avg_A", "out.exp_avg_B"}, MOMENTS),
    "moments-swapped": ({"out.exp_avg_A", "out.exp_avg_B"}, MOMENTS),
    "merge-missing": ({"W_unchanged"}, set()),
    "merge-wrong-sign": ({"W_unchanged"}, set()),
    "scalar-only": ({"optimality"}, SCALING),
}

failures = []
passes = []


def verify(verify_exe, path, *extra):
    p = subprocess.run([verify_exe, "--json", *extra, path], capture_output=True, text=True)
    try:
        doc = json.loads(p.stdout)
    except ValueError:
        doc = None
    return p.returncode, doc, p.stderr


def expect(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    (passes if cond else failures).append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--verify", required=True)
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    print("torch %s" % torch.__version__)

    for bug in ["none"] + list(EXPECTED):
        tensors, meta, branch = client.make_case(bug=bug)
        path = os.path.join(a.workdir, "torch_%s.safetensors" % bug)
        client.write_safetensors(path, tensors, meta)
        rc, doc, err = verify(a.verify, path)
        if doc is None:
            expect(False, "%s: scalora-verify printed no JSON (exit %d): %s" % (bug, rc, err))
            continue
        case = doc["cases"][0]
        failed = {c["id"]: c for c in case["checks"] if c["status"] == "fail"}
        # The same data and seed for every run: the column condition holds (the
        # reference's exact decision), so a scalar-only implementation is wrong.
        expect(case["reference"]["branch"] == "column",
               "%s: the reference decides the column branch (margin %.3g)" % (bug, case["reference"]["margin"]))
        if bug == "none":
            expect(rc == 0 and not failed, "clean step: exit %d, failed %s" % (rc, sorted(failed)))
            continue
        must, may = EXPECTED[bug]
        for cid in sorted(failed):
            c = failed[cid]
            print("      %s: %s fails, %.4g > %.4g %s" % (bug, cid, c["value"] if c["value"] is not None else float("inf"),
                                                        c["tolerance"], c["unit"]))
        expect(rc == 1, "%s: exit %d (expected 1)" % (bug, rc))
        expect(must <= set(failed), "%s: %s fail" % (bug, sorted(must)))
        expect(set(failed) <= must | may, "%s: nothing else fails (%s)" % (bug, sorted(set(failed) - must - may)))

    # The command-line client, bfloat16 parameters with the scalings left out
    # (fitted from out.A, out.B), and an .npz dump: clean steps pass.
    for name, args in [("bf16", ["--dtype", "bfloat16", "--compute", "float32", "--no-scalings"]),
                       ("npz", [])]:
        path = os.path.join(a.workdir, "torch_cli_%s.%s" % (name, "npz" if name == "npz" else "safetensors"))
        p = subprocess.run([sys.executable, client.__file__, path, *args], capture_output=True, text=True)
        expect(p.returncode == 0, "client %s: exit %d %s" % (name, p.returncode, p.stderr.strip()))
        rc, doc, err = verify(a.verify, path)
        bad = [c["id"] for c in doc["cases"][0]["checks"] if c["status"] == "fail"] if doc else err
        expect(rc == 0, "client %s: scalora-verify exit %d, failed %s" % (name, rc, bad))

    # PEFT's step 0: lora_B = 0 (A = 0 here) makes M singular and AdamW's state
    # is empty. torch.linalg.solve raises there; the recipe (scalora_rule.py)
    # takes the least-change solution, transfers no moments, and passes.
    try:
        client.make_case(warmup=0)
        expect(False, "step 0: torch.linalg.solve on the singular M did not raise")
    except RuntimeError as e:
        expect(True, "step 0: torch.linalg.solve raises on the singular M (%s)" % str(e).splitlines()[0][:60])
    tensors, meta, branch = client.make_case(warmup=0, rule="recipe")
    path = os.path.join(a.workdir, "torch_step0_recipe.safetensors")
    client.write_safetensors(path, tensors, meta)
    rc, doc, err = verify(a.verify, path)
    bad = [c["id"] for c in doc["cases"][0]["checks"] if c["status"] != "pass" and c["status"] != "info"] if doc else err
    expect(rc == 0 and "exp_avg_A" not in tensors and bool((tensors["out.alpha"] == 1).all()),
           "step 0 with the recipe: %s branch, alpha = 1 (A = 0: not determined), no moments, scalora-verify exit %d %s"
           % (branch, rc, bad))

    print("torch client: %d passed, %d failed" % (len(passes), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
