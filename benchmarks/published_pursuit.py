"""The published methods of paper 004 (Aberdam, Simon, Elad), written as its authors ran them:
PyTorch, one batch of signals, every stage a tensor loop over the whole batch.

* :func:`latent_pursuit` -- Algorithm 5: Algorithm 3 (FISTA, as printed: no restart) for the last
  layer, Algorithm 4 (linearised ADMM) for every middle layer and, with the x-step of Eq. (18), for
  ``z``; then the debiasing step by gradient descent ("10,000 iterations of debiasing", Sec. 6.2,
  "in a similar manner to gradient descent", Sec. 6.1), i.e. the GD baseline below on the
  frozen-support net, started at the pursuit's ``z``.
* :func:`gradient_descent` -- the baseline of Sec. 6.2: ``z0 ~ N(0, I)``, 10,000 iterations,
  momentum 0.9 (heavy ball, ``torch.optim.SGD`` semantics), autograd gradients.

Parameters the paper states are used as stated: ``lambda_i = 0``, ``rho = 1e-2`` for every layer,
``gamma = 0`` (Sec. 6.1), 10,000 iterations, momentum 0.9. Where it is silent, theorychk's library
defaults (``theorychk.solvers.pursuit`` / ``.gradient``) are taken, and say so here:

* per-stage iteration cap 10,000 and stopping rule: a signal stops when its relative change is at
  most 1e-12 (FISTA: ``||u+ - u||`` and ``||u+ - x||``; ADMM: ``||x+ - x||`` and the split residual);
  GD and debiasing stop a signal when its gradient norm is at most 1e-9 (the rule of Sec. 6.1).
  A stopped signal is frozen (masked); the loop ends when every signal has stopped.
* FISTA step ``mu = 1 / ||W_L||_2^2`` (``mu in (0, 2/l)`` in Alg. 3; PLU has curvature 1);
  ADMM ``alpha + beta = lambda_max(W_S^T W_S + rho W_Sc^T W_Sc)`` per signal (Eq. 12 with equality);
  supports ``|x| > 1e-6 max|x|``.
* GD step: Sec. 6.2 says "1e-1 that gradually decays" for its own net and loss scaling (a sum
  of squares with step 0.1 diverges on the benchmark net; a mean over the 784 pixels would be
  ``0.2 / 784`` in our units, 7.5x below the step used). We use the library's step
  ``1 / prod ||W_i||_2^2`` and no decay -- the faster of the readings, so the baseline is not
  slowed by our choice.
* float64 throughout (the 1e-12 / 1e-9 rules are below float32 resolution); CPU threads: torch's
  default unless the caller sets ``torch.set_num_threads``.
"""

from __future__ import annotations

import torch

RHO, TOL, ITERATIONS, GRAD_TOL, MOMENTUM, SUPPORT_TOL = 1e-2, 1e-12, 10_000, 1e-9, 0.9, 1e-6


class TorchNet:
    """The weights of a theorychk ``Network`` (ReLU hidden layers, PLU output) as float64 tensors."""

    def __init__(self, net) -> None:
        self.weights = [torch.tensor(layer.weight, dtype=torch.float64) for layer in net.layers]
        for layer in net.layers:
            if layer.bias is not None and bool((layer.bias != 0).any()):
                raise ValueError("paper 004's generator has no biases")
        out = net.activations[-1]
        self.alpha, self.c = float(out.alpha), float(out.c)

    def phi(self, p: torch.Tensor) -> torch.Tensor:
        a, c = self.alpha, self.c
        return torch.maximum(a * (p + c) - c, torch.minimum(a * (p - c) + c, p))

    def dphi(self, p: torch.Tensor) -> torch.Tensor:
        return torch.where(p.abs() <= self.c, 1.0, self.alpha).to(p.dtype)

    def forward(self, z: torch.Tensor, supports: list[torch.Tensor] | None = None) -> torch.Tensor:
        x = z
        for k, w in enumerate(self.weights[:-1]):
            p = x @ w.T
            x = torch.relu(p) if supports is None else supports[k] * p
        return self.phi(x @ self.weights[-1].T)

    def gd_step(self) -> float:
        return 1.0 / float(torch.prod(torch.stack([torch.linalg.matrix_norm(w, 2) ** 2 for w in self.weights])))


def _support(x: torch.Tensor) -> torch.Tensor:
    a = x.abs()
    return (a > SUPPORT_TOL * a.max(dim=1, keepdim=True).values).to(x.dtype)


def fista_last_layer(tn: TorchNet, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 3 (lambda_L = 0): projected FISTA from 0 on 1/2 ||y - phi(W_L x)||^2, x >= 0."""
    w = tn.weights[-1]
    mu = 1.0 / float(torch.linalg.matrix_norm(w, 2) ** 2)
    b = y.shape[0]
    x = torch.zeros(b, w.shape[1], dtype=y.dtype)
    u = torch.zeros_like(x)
    t = torch.ones(b, 1, dtype=y.dtype)
    live = torch.ones(b, 1, dtype=torch.bool)
    iters = torch.zeros(b, dtype=torch.long)
    for _ in range(ITERATIONS):
        p = x @ w.T
        g = (tn.dphi(p) * (tn.phi(p) - y)) @ w
        u_new = torch.relu(x - mu * g)
        t_new = 0.5 * (1.0 + torch.sqrt(1.0 + 4.0 * t * t))
        x_new = u_new + (t - 1.0) / t_new * (u_new - u)
        scale = u_new.norm(dim=1, keepdim=True)
        done = ((u_new - u).norm(dim=1, keepdim=True) <= TOL * scale) & (
            (u_new - x).norm(dim=1, keepdim=True) <= TOL * scale)
        x, u, t = torch.where(live, x_new, x), torch.where(live, u_new, u), torch.where(live, t_new, t)
        iters += live[:, 0]
        live &= ~done
        if not live.any():
            break
    return u, iters


def linearized_admm(w: torch.Tensor, target: torch.Tensor, *, nonnegative: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 4 (lambda = 0, gamma = 0) from x = a = u = 0; for z, step 1 is Eq. (18)."""
    s = _support(target)
    c = 1.0 - s
    tb = s * target
    gram = torch.einsum("ki,bk,kj->bij", w, s + RHO * c, w)
    eta = torch.linalg.eigvalsh(gram)[:, -1:] * (1.0 + 1e-9)
    b = target.shape[0]
    x = torch.zeros(b, w.shape[1], dtype=target.dtype)
    p = torch.zeros_like(target)
    a = torch.zeros_like(target)
    u = torch.zeros_like(target)
    scale_t = tb.norm(dim=1, keepdim=True)
    live = torch.ones(b, 1, dtype=torch.bool)
    iters = torch.zeros(b, dtype=torch.long)
    for _ in range(ITERATIONS):
        g = (s * (p - tb) + RHO * c * (p - a - u)) @ w
        x_new = torch.relu(x - g / eta) if nonnegative else x - g / eta
        p_new = x_new @ w.T
        a_new = c * torch.clamp(p_new - u, max=0.0)
        resid = c * (a_new - p_new)
        done = ((x_new - x).norm(dim=1, keepdim=True) <= TOL * x_new.norm(dim=1, keepdim=True)) & (
            resid.norm(dim=1, keepdim=True) <= TOL * torch.maximum(scale_t, (c * p_new).norm(dim=1, keepdim=True)))
        x, p = torch.where(live, x_new, x), torch.where(live, p_new, p)
        a, u = torch.where(live, a_new, a), torch.where(live, u + resid, u)
        iters += live[:, 0]
        live &= ~done
        if not live.any():
            break
    return x, iters


def _descend(tn: TorchNet, z0: torch.Tensor, y: torch.Tensor, supports=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Heavy-ball GD on sum_signals 1/2 ||G(z) - y||^2 by autograd; a signal stops at grad norm <= 1e-9."""
    step = tn.gd_step()
    z = z0.clone().requires_grad_(True)
    vel = torch.zeros_like(z0)
    live = torch.ones(z0.shape[0], 1, dtype=torch.bool)
    iters = torch.zeros(z0.shape[0], dtype=torch.long)
    for _ in range(ITERATIONS + 1):
        loss = 0.5 * ((tn.forward(z, supports) - y) ** 2).sum()
        (grad,) = torch.autograd.grad(loss, z)
        live &= grad.norm(dim=1, keepdim=True) > GRAD_TOL
        if not live.any() or int(iters.max()) >= ITERATIONS:
            break
        with torch.no_grad():
            vel = torch.where(live, MOMENTUM * vel + grad, vel)
            z -= step * torch.where(live, vel, 0.0)
        iters += live[:, 0]
    return z.detach(), iters


def latent_pursuit(tn: TorchNet, y: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Algorithm 5 with debiasing; returns z and the iterations of each stage per signal."""
    depth = len(tn.weights)
    its: dict[str, torch.Tensor] = {}
    x, its[f"x_{depth - 1}"] = fista_last_layer(tn, y)
    estimates = {depth - 1: x}
    for k in range(depth - 2, 0, -1):
        x, its[f"x_{k}"] = linearized_admm(tn.weights[k], x, nonnegative=True)
        estimates[k] = x
    z, its["z"] = linearized_admm(tn.weights[0], x, nonnegative=False)
    supports = [_support(estimates[k]) for k in range(1, depth)]
    z, its["debias"] = _descend(tn, z, y, supports)
    return z, its


def gradient_descent(tn: TorchNet, y: torch.Tensor, *, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The Sec. 6.2 baseline from z0 ~ N(0, I) (torch generator seeded with ``seed``)."""
    gen = torch.Generator().manual_seed(seed)
    z0 = torch.randn(y.shape[0], tn.weights[0].shape[1], generator=gen, dtype=y.dtype)
    return _descend(tn, z0, y)
