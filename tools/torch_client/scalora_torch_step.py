#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""One ScaLoRA step on a PEFT-style LoRA nn.Linear trained with torch.optim.AdamW,
dumped as a scalora-verify case file (docs/validating.md).

The layer is built the way PEFT builds one: a frozen base nn.Linear, lora_A =
nn.Linear(d_in, r) (weight [r, d_in], random), lora_B = nn.Linear(r, d_out) (weight
[d_out, r], zero), scale omega = lora_alpha / r, forward base(x) + omega * lora_B(lora_A(x)).
In the case file's math layout, W = W_pt + lora_scale A B^T:

    A      = lora_B.weight            [m = d_out, r]
    B      = lora_A.weight.T          [n = d_in, r]
    grad_A = lora_B.weight.grad       grad_B = lora_A.weight.grad.T
    W_pt   = base.weight              G = dloss/dW = grad_output^T @ input
    exp_avg_A    = AdamW state of lora_B.weight   exp_avg_B    = (state of lora_A.weight).T
    lora_scale   = s

The ScaLoRA step (spec section 7, steps 2-8) is written in plain torch as a PEFT
user would write it: M and lambda from the factors, torch.linalg.solve, the
column condition v >= 0, else Theorem 3; merge into base.weight, rescale the
factors, their gradients and AdamW's exp_avg / exp_avg_sq (crossed pairing:
lora_B's moments by beta, lora_A's by alpha).

--bug plants one of the bugs scalora-verify must catch.
Needs only torch (Debian python3-torch); the safetensors file is written by hand.
"""
import argparse
import json
import os
import struct
import sys

import torch

import scalora_rule

BUGS = ["none", "moments-not-transferred", "moments-swapped", "merge-missing", "merge-wrong-sign", "scalar-only"]
DTYPES = {"float64": torch.float64, "float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
ST_NAMES = {torch.float64: "F64", torch.float32: "F32", torch.bfloat16: "BF16", torch.float16: "F16"}


class LoraLinear(torch.nn.Module):
    """PEFT's LoRA Linear: base(x) + scaling * lora_B(lora_A(x))."""

    def __init__(self, d_in, d_out, r, lora_alpha):
        super().__init__()
        self.base = torch.nn.Linear(d_in, d_out, bias=True)
        self.base.weight.requires_grad_(False)
        self.base.bias.requires_grad_(False)
        self.lora_A = torch.nn.Linear(d_in, r, bias=False)
        self.lora_B = torch.nn.Linear(r, d_out, bias=False)
        torch.nn.init.kaiming_uniform_(self.lora_A.weight, a=5 ** 0.5)  # PEFT's default init
        torch.nn.init.zeros_(self.lora_B.weight)
        self.scaling = lora_alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scaling


def theorem3(M, lam, kappa, r):
    """Theorem 3 (scalar scaling) from the blocks of M and lambda: squared scalings (a, b)."""
    p, q, s = M[:r, :r].sum(), M[:r, r:].sum(), M[r:, r:].sum()
    x, y = lam[:r].sum(), lam[r:].sum()
    c = 1.0 / kappa
    C, CA, CB = p * s - q * q, s * x - q * y, p * y - q * x
    if x == 0 and y == 0:
        return torch.ones_like(p), torch.ones_like(p)
    if C <= 0:
        raise NotImplementedError("C = 0 (X parallel to Y): see docs/decisions.md D6")
    if CA > 0 and CB <= 0:
        return c * x / p, torch.zeros_like(p)
    if CA <= 0 and CB > 0:
        return torch.zeros_like(p), c * y / s
    return c * CA / C, c * CB / C


@torch.no_grad()
def scalora_step(layer, opt, L, lr, compute=torch.float64, bug="none"):
    """Steps 2-8 on the layer and the optimizer state, in place. Returns alpha, beta, branch."""
    wA, wB = layer.lora_A.weight, layer.lora_B.weight  # [r, d_in], [d_out, r]
    s = layer.scaling
    r = wA.shape[0]
    A, B = wB.to(compute), wA.to(compute).T  # math layout [m, r], [n, r]
    gA, gB = wB.grad.to(compute), wA.grad.to(compute).T
    SA, SB = torch.cat([A, gA], 1), torch.cat([gB, B], 1)
    M = (SA.T @ SA) * (SB.T @ SB)  # 2r x 2r
    lam = torch.cat([(gB * gB).sum(0), (gA * gA).sum(0)])
    kappa = L * lr * s * s
    u, branch = None, "scalar"
    if bug != "scalar-only":
        v = torch.linalg.solve(M, lam)
        if bool((v >= 0).all()):
            u, branch = v / kappa, "column"
    if u is None:
        a, b = theorem3(M, lam, kappa, r)
        u = torch.cat([a.expand(r), b.expand(r)])
    alpha, beta = u[:r].clamp_min(0).sqrt(), u[r:].clamp_min(0).sqrt()

    # Step 5, the merge: W_pt += s A diag(1 - alpha beta) B^T, i.e.
    # base.weight += s (lora_B.weight diag(1 - alpha beta)) lora_A.weight.
    coef = (s * (1 - alpha * beta)).to(wB.dtype)
    update = (wB * coef) @ wA
    if bug == "merge-wrong-sign":
        layer.base.weight.sub_(update)
    elif bug != "merge-missing":
        layer.base.weight.add_(update)
    # Step 6: A <- A diag(alpha) (lora_B's columns), B <- B diag(beta) (lora_A's rows).
    wB.mul_(alpha.to(wB.dtype))
    wA.mul_(beta.to(wA.dtype)[:, None])
    # Step 7: the gradients of this step, for the rescaled factors (crossed pairing).
    wB.grad.mul_(beta.to(wB.dtype))
    wA.grad.mul_(alpha.to(wA.dtype)[:, None])
    # Step 8: AdamW moments, crossed: lora_B (A) by beta, lora_A (B) by alpha.
    if bug != "moments-not-transferred":
        for_B, for_A = (alpha, beta) if bug == "moments-swapped" else (beta, alpha)
        stB, stA = opt.state[wB], opt.state[wA]
        stB["exp_avg"].mul_(for_B.to(wB.dtype))
        stB["exp_avg_sq"].mul_((for_B * for_B).to(wB.dtype))
        stA["exp_avg"].mul_(for_A.to(wA.dtype)[:, None])
        stA["exp_avg_sq"].mul_((for_A * for_A).to(wA.dtype)[:, None])
    return alpha, beta, branch


def layer_tensors(layer, opt, prefix=""):
    """The case-file tensors of the layer's current state (math layout); no
    moments before the first optimizer.step() (AdamW's state is empty then)."""
    wA, wB = layer.lora_A.weight, layer.lora_B.weight
    stA, stB = opt.state.get(wA, {}), opt.state.get(wB, {})
    t = {
        prefix + "A": wB.detach().clone(),
        prefix + "B": wA.detach().T.clone(),
        prefix + "grad_A": wB.grad.detach().clone(),
        prefix + "grad_B": wA.grad.detach().T.clone(),
        prefix + "W_pt": layer.base.weight.detach().clone(),
    }
    if "exp_avg" in stA:
        t.update({prefix + "exp_avg_A": stB["exp_avg"].clone(), prefix + "exp_avg_sq_A": stB["exp_avg_sq"].clone(),
                  prefix + "exp_avg_B": stA["exp_avg"].T.clone(), prefix + "exp_avg_sq_B": stA["exp_avg_sq"].T.clone()})
    return t


def write_safetensors(path, tensors, metadata):
    """safetensors by hand: 8-byte little-endian header length, JSON header, raw bytes (atomic)."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.view(torch.int16) if t.dtype == torch.bfloat16 else t  # numpy has no bfloat16
        data = raw.numpy().tobytes()
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def write_npz(path, tensors):
    import numpy  # noqa: E402 (only for this format)

    arrays = {k: (v.float() if v.dtype == torch.bfloat16 else v).detach().cpu().numpy() for k, v in tensors.items()}
    tmp = "%s.tmp.%d.npz" % (path, os.getpid())
    numpy.savez(tmp, **arrays)
    os.replace(tmp, path)


def make_case(seed=3, d_in=48, d_out=40, r=4, lora_alpha=8, batch=64, dtype=torch.float32, compute=torch.float64,
              L=10.0, lr=1e-2, warmup=3, bug="none", with_scalings=True, rule="client"):
    """Trains `warmup` AdamW steps (non-zero moments, lora_B no longer zero), then
    takes the ScaLoRA step on a fresh gradient: this file's scalora_step (rule
    "client", with the planted bug), or scalora_rule.scalora_peft_step (rule
    "recipe", the one docs/validating.md shows; warmup = 0 is PEFT's step 0:
    lora_B = 0 and an empty AdamW state). Returns (tensors, metadata, branch)."""
    g = torch.Generator().manual_seed(seed)
    layer = LoraLinear(d_in, d_out, r, lora_alpha)
    with torch.no_grad():  # seeded values; lora_B stays zero as PEFT initialises it
        layer.base.weight.copy_(torch.randn(d_out, d_in, generator=g) / d_in ** 0.5)
        layer.base.bias.copy_(0.1 * torch.randn(d_out, generator=g))
        layer.lora_A.weight.copy_(torch.randn(r, d_in, generator=g) / d_in ** 0.5)
    layer = layer.to(dtype)
    # A teacher whose change from the base weight has rank 3 r: more than one LoRA step can fit.
    X = torch.randn(batch, d_in, generator=g)
    change = torch.randn(d_out, 3 * r, generator=g) @ torch.randn(3 * r, d_in, generator=g) / d_in
    Y = X @ (layer.base.weight.float() + change).T + 0.01 * torch.randn(batch, d_out, generator=g)
    X, Y = X.to(dtype), Y.to(dtype)
    opt = torch.optim.AdamW([layer.lora_A.weight, layer.lora_B.weight], lr=lr, weight_decay=0.01)

    def loss_and_grad(capture=None):
        opt.zero_grad(set_to_none=True)
        out = layer(X)
        if capture is not None:
            out.register_hook(lambda grad: capture.__setitem__("dy", grad))
        loss = ((out - Y).float() ** 2).mean()
        loss.backward()
        return loss

    for _ in range(warmup):
        loss_and_grad()
        opt.step()
    cap = {}
    loss_and_grad(cap)
    # G = dloss/dW for y = x W^T + ...: G = dy^T x (summed over the batch).
    G = cap["dy"].T @ X
    tensors = layer_tensors(layer, opt)
    tensors["G"] = G.detach()
    tensors["L"] = torch.tensor(L, dtype=torch.float64)
    tensors["lr"] = torch.tensor(lr, dtype=torch.float64)
    tensors["lora_scale"] = torch.tensor(layer.scaling, dtype=torch.float64)
    if rule == "recipe":
        alpha, beta, branch = scalora_rule.scalora_peft_step(layer.lora_A, layer.lora_B, layer.base, opt, L, lr,
                                                             layer.scaling)
        compute = torch.float64
    else:
        alpha, beta, branch = scalora_step(layer, opt, L, lr, compute, bug)
    tensors.update(layer_tensors(layer, opt, "out."))
    if with_scalings:
        tensors["out.alpha"], tensors["out.beta"] = alpha, beta
    metadata = {"format": "pt", "scalora.compute_dtype": ST_NAMES[compute], "generator": "scalora_torch_step.py",
                "bug": bug, "branch_taken": branch, "rule": rule}
    return tensors, metadata, branch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="case file to write (.safetensors or .npz)")
    ap.add_argument("--bug", choices=BUGS, default="none")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--dtype", choices=DTYPES, default="float32", help="parameter dtype")
    ap.add_argument("--compute", choices=["float64", "float32"], default="float64", help="dtype of M, lambda, u")
    ap.add_argument("--d-in", type=int, default=48)
    ap.add_argument("--d-out", type=int, default=40)
    ap.add_argument("--r", type=int, default=4)
    ap.add_argument("--no-scalings", action="store_true", help="do not dump out.alpha, out.beta")
    a = ap.parse_args(argv)
    tensors, metadata, branch = make_case(seed=a.seed, d_in=a.d_in, d_out=a.d_out, r=a.r, dtype=DTYPES[a.dtype],
                                          compute=DTYPES[a.compute], bug=a.bug, with_scalings=not a.no_scalings)
    if a.out.endswith(".npz"):
        write_npz(a.out, tensors)
    else:
        write_safetensors(a.out, tensors, metadata)
    print("%s: %s branch, bug %s" % (a.out, branch, a.bug))
    return 0


if __name__ == "__main__":
    sys.exit(main())
