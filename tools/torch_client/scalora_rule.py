# SPDX-License-Identifier: Apache-2.0
"""The ScaLoRA rule in PyTorch (docs/validating.md, "The rule in PyTorch").

scalora_rule(): the scalings alpha, beta of one adapted layer (steps 2-4), in the
math layout W = W_pt + omega A B^T, A [m, r], B [n, r]: Theorem 5 when M v = lambda
has a solution v >= 0, else Theorem 3. A singular M (PEFT's zero initialisation,
duplicated or zero columns) takes the least-change solution (docs/decisions.md D5)
instead of raising as torch.linalg.solve does. scalora_peft_step(): steps 2-8 on a
PEFT LoRA layer and its AdamW state. Needs only torch.
"""
import torch


def decrease(M, lam, kappa, u):
    """delta(u) = lambda^T u - (kappa/2) u^T M u: the bound's decrease times omega^2/lr."""
    return lam @ u - kappa / 2 * (u @ (M @ u))


def theorem3(M, lam, kappa, r):
    """Theorem 3: squared scalings (a, b) from the block sums of M and lambda."""
    p, q, s = M[:r, :r].sum(), M[:r, r:].sum(), M[r:, r:].sum()
    x, y = lam[:r].sum(), lam[r:].sum()
    c, one = 1 / kappa, torch.ones_like(p)
    if x <= 0 and y <= 0:  # zero gradient: no change
        return one, one
    if p <= 0:  # X = 0: alpha is free and stays 1 (D6)
        return one, c * y / s if s > 0 else one
    if s <= 0:  # Y = 0: beta is free
        return c * x / p, one
    C, CA, CB = p * s - q * q, s * x - q * y, p * y - q * x
    if C > 16 * torch.finfo(M.dtype).eps * p * s:
        if CA > 0 and CB <= 0:
            return c * x / p, 0 * one  # row "B off"
        if CA <= 0 and CB > 0:
            return 0 * one, c * y / s  # row "A off"
        return (c * CA / C).clamp_min(0), (c * CB / C).clamp_min(0)  # interior
    t, w = (s / p).sqrt(), c * x / p  # C = 0: Y = t X, optima a + t b = w; nearest (1, 1)
    mu = (w - 1 - t) / (1 + t * t)
    a, b = 1 + mu, 1 + mu * t
    return (0 * one, w / t) if a < 0 else (w * one, 0 * one) if b < 0 else (a, b)


def nnls(E, f):
    """min ||E z - f|| over z >= 0 (Lawson and Hanson's active-set method)."""
    n, tol = E.shape[1], 1e-12 * float(E.abs().max() * f.abs().max())
    z, P = torch.zeros(n, dtype=E.dtype), torch.zeros(n, dtype=torch.bool)
    for _ in range(3 * n):
        g = E.T @ (f - E @ z)
        if P.all() or (g[~P] <= tol).all():
            break
        P[torch.where(P, torch.full_like(g, -torch.inf), g).argmax()] = True
        while True:
            zt = torch.zeros_like(z)  # least squares on the passive set P
            zt[P] = torch.linalg.lstsq(E[:, P], f[:, None]).solution[:, 0]
            if (zt[P] > 0).all():
                z = zt
                break
            neg = P & (zt <= 0)
            z = z + (z[neg] / (z[neg] - zt[neg])).min() * (zt - z)
            P &= z > 0
            z[~P] = 0
    return z


def theorem5(M, lam, kappa):
    """Squared scalings u = v/kappa of a solution v >= 0 of M v = lambda, or None.
    Works in w_i = sqrt(M_ii) v_i (unit diagonal); M_ii = 0 leaves u_i free: 1 (D5).
    Singular M: the solution nearest u = 1; if it has negative entries, a
    non-negative least-squares search for another solution."""
    d = M.diagonal().clamp_min(0).sqrt()
    act, u = d > 0, torch.ones(M.shape[0], dtype=M.dtype)
    if not act.any():
        return u
    da = d[act]
    Mh, lh = M[act][:, act] / da[:, None] / da[None, :], lam[act] / da
    ev, V = torch.linalg.eigh(Mh)
    eps = torch.finfo(M.dtype).eps
    keep = ev > 16 * len(ev) * eps * ev.max()  # numerical rank
    w = V[:, keep] @ ((V[:, keep].T @ lh) / ev[keep])  # least squares, in range(M)
    N = V[:, ~keep]  # null space: w + N z solves the system too
    w = w + N @ (N.T @ (kappa * da - w))  # least change: nearest u = 1
    tau = min(1 / 16, 16 * len(ev) * eps * float(ev.max() / ev[keep].min()))  # D4
    if N.shape[1] > 0 and (w < -tau * w.abs().max()).any():
        z = nnls(Mh, lh)
        if torch.linalg.norm(Mh @ z - lh) <= 1e-9 * torch.linalg.norm(lh):
            w = z
    if (w < -tau * w.abs().max()).any():
        return None
    u[act] = w.clamp_min(0) / da / kappa
    return u


@torch.no_grad()
def scalora_rule(A, B, grad_A, grad_B, kappa, mode="hybrid"):
    """alpha, beta (float64, r each) and the branch; kappa = L lr omega^2."""
    A, B, gA, gB = (t.to(torch.float64) for t in (A, B, grad_A, grad_B))
    r = A.shape[1]
    SA, SB = torch.cat([A, gA], 1), torch.cat([gB, B], 1)
    M = (SA.T @ SA) * (SB.T @ SB)  # 2r x 2r
    lam = torch.cat([(gB * gB).sum(0), (gA * gA).sum(0)])
    a, b = theorem3(M, lam, kappa, r)
    u, branch = torch.cat([a.expand(r), b.expand(r)]), "scalar"
    if mode == "hybrid":
        uc = theorem5(M, lam, kappa)
        ds = decrease(M, lam, kappa, u)
        # Guard: Theorem 5's optimum is at least Theorem 3's; less means the solve failed.
        if uc is not None and decrease(M, lam, kappa, uc) >= ds - 1e-12 * abs(ds):
            u, branch = uc, "column"
    return u[:r].sqrt(), u[r:].sqrt(), branch


@torch.no_grad()
def scalora_peft_step(lora_A, lora_B, base, optimizer, L, lr, scaling, mode="hybrid"):
    """Steps 2-8 in place on a PEFT LoRA Linear (A = lora_B.weight, B = lora_A.weight.T),
    after backward and before optimizer.step(). lr: the peak learning rate (D1)."""
    wA, wB = lora_A.weight, lora_B.weight  # [r, d_in], [d_out, r]
    alpha, beta, branch = scalora_rule(wB, wA.T, wB.grad, wA.grad.T, L * lr * scaling**2, mode)
    base.weight.add_((wB * (scaling * (1 - alpha * beta)).to(wB.dtype)) @ wA)  # merge
    wB.mul_(alpha.to(wB.dtype))  # A <- A diag(alpha): lora_B's columns
    wA.mul_(beta.to(wA.dtype)[:, None])  # B <- B diag(beta): lora_A's rows
    wB.grad.mul_(beta.to(wB.dtype))  # the step's gradients, crossed
    wA.grad.mul_(alpha.to(wA.dtype)[:, None])
    for w, f in ((wB, beta), (wA, alpha[:, None])):  # AdamW's moments, crossed
        st = optimizer.state.get(w, {})  # empty before the first optimizer.step()
        if "exp_avg" in st:
            st["exp_avg"].mul_(f.to(w.dtype))
            st["exp_avg_sq"].mul_((f * f).to(w.dtype))
    return alpha, beta, branch
