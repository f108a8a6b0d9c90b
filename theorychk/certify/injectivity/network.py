"""The verdict on a network: :func:`network_injectivity`.

Every layer is decided by :func:`~.layer.layer_injectivity`. When a later layer is refuted,
its witness inputs need not be outputs of the earlier layers; this module pulls witness pairs
back through them exactly (:func:`_realize`) and, failing that, looks for a latent point in a
linear region where the whole network's Jacobian is singular (:func:`_latent_witness`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, TypeGuard

import numpy as np

from theorychk._validation import NON_NEGATIVE_INT, POSITIVE_INT, SECONDS, check
from theorychk import exact
from theorychk.certify.injectivity.domain import _Box, _check_dom, _Domain, _interior, _parse_domain, _room
from theorychk.certify.injectivity.evidence import _rationalize, _simplify_below
from theorychk.certify.injectivity.layer import layer_injectivity
from theorychk.certify.injectivity.results import TOLERANCES, LayerInjectivity, NetworkInjectivity, Pair
from theorychk.certify.injectivity.witness import _sample_points
from theorychk.check.injectivity import check_network_pair
from theorychk.errors import CertificateError, InvalidInput
from theorychk.network import Layer, Network, row_model
from theorychk.runtime import DEFAULT_TIME_LIMIT, Deadline
from theorychk.verdict import Status, jsonable


def _solve_with_inequalities(eq: list[list[Fraction]], rhs: list[Fraction], le: list[list[Fraction]],
                             le_rhs: list[Fraction], n: int) -> tuple[Fraction, ...] | None:
    """An exact ``v`` with ``eq v = rhs`` and ``le v <= le_rhs``: the affine solution set
    ``v0 + N c`` exactly, a float LP for ``c`` (max margin), then an exact check."""
    v0 = exact.solve(eq, rhs) if eq else tuple(Fraction(0) for _ in range(n))
    if v0 is None:
        return None
    N = exact.nullspace(eq) if eq else tuple(tuple(Fraction(int(i == k)) for i in range(n)) for k in range(n))

    def ok(v: Sequence[Fraction]) -> bool:
        return all(sum((a * x for a, x in zip(row, v)), Fraction(0)) <= r for row, r in zip(le, le_rhs))

    if ok(v0):
        return tuple(v0)
    if not N or not le:
        return None
    from scipy.optimize import linprog  # engine-side only

    Nf = np.array([[float(a) for a in vec] for vec in N]).T  # n x k
    L = np.array([[float(a) for a in row] for row in le])
    slack = np.array([float(r) for r in le_rhs]) - L @ np.array([float(a) for a in v0])
    k = Nf.shape[1]
    # max s  s.t.  L N c + s <= slack,  s <= 1
    res = linprog(np.r_[np.zeros(k), -1.0], A_ub=np.c_[L @ Nf, np.ones(len(le))], b_ub=slack,
                  bounds=[(None, None)] * k + [(None, 1.0)], method="highs")
    if res.status != 0 or res.x[-1] < 0:
        return None
    for cq in _rationalize(res.x[:k]):
        v = tuple(a + sum((c * vec[i] for c, vec in zip(cq, N)), Fraction(0)) for i, a in enumerate(v0))
        if ok(v):
            return v
    return None


def _preimage(layer: Layer, y: Sequence[Fraction], nonneg: bool) -> tuple[Fraction, ...] | None:
    """An exact input ``v`` with ``layer(v) == y`` (and ``v >= 0`` if ``nonneg``), or ``None``."""
    W = exact.to_fractions(layer.weight)
    b = [exact.rational(v) for v in layer.bias.tolist()]
    n = layer.n_in
    act = layer.activation
    if row_model(act).family == "relu":  # a zero output only says the pre-activation is <= 0
        if any(v < 0 for v in y):
            return None
        eq = [list(W[j]) for j in range(len(y)) if y[j] > 0]
        rhs = [y[j] - b[j] for j in range(len(y)) if y[j] > 0]
        le = [list(W[j]) for j in range(len(y)) if y[j] == 0]
        le_rhs = [-b[j] for j in range(len(y)) if y[j] == 0]
    else:
        if not (act.invertible and act.piecewise_linear):
            return None
        pre = [act.exact_inverse(v) for v in y]
        eq, le, le_rhs = [list(r) for r in W], [], []
        rhs = [p - bj for p, bj in zip(pre, b)]
    if nonneg:
        le = le + [[Fraction(-int(i == k)) for i in range(n)] for k in range(n)]
        le_rhs = le_rhs + [Fraction(0)] * n
    return _solve_with_inequalities(eq, rhs, le, le_rhs, n)


def _realize(net: Network, k: int, pair: Pair) -> Pair | None:
    """Latent codes whose layer-``k`` inputs are the witness pair, found exactly, or ``None``."""
    out = []
    for x in pair:
        v: tuple[Fraction, ...] = tuple(x)
        for i in range(k - 1, -1, -1):
            nonneg = i > 0 and net.layers[i - 1].activation.value_range[0] >= 0
            u = _preimage(net.layers[i], v, nonneg)
            if u is None:
                return None
            v = u
        out.append(v)
    return out[0], out[1]


def _latent_witness(net: Network, rng: np.random.Generator, n: int, dom: _Domain | None) -> Pair | None:
    """Latent ``z`` inside a linear region where the network's Jacobian is singular.

    On the open region around ``z`` (no pre-activation at a breakpoint) the network is affine
    with Jacobian ``J``; a null vector ``v`` of ``J`` (exact) and a step ``eps`` that keeps every
    pre-activation on its side give ``G(z) == G(z + eps v)``, checked exactly.
    """
    if not all(layer.activation.piecewise_linear for layer in net.layers):
        return None
    d = net.latent_dim
    if dom is not None:
        Z = _sample_points(net.layers[0], rng, n, dom)
    else:
        Z = rng.standard_normal((n, d)) * 10 ** rng.uniform(-1, 1, size=(n, 1))
    pre, _ = net.trace(Z)
    J = np.broadcast_to(np.eye(d), (n, d, d)).copy()
    for layer, p in zip(net.layers, pre):
        J = np.einsum("ij,njk->nik", layer.weight, J)
        J = layer.activation.derivative(p)[:, :, None] * J
    sv = np.linalg.svd(J, compute_uv=False)
    rel = sv[:, -1] / np.maximum(sv[:, 0], 1e-300)
    for idx in np.argsort(rel)[:4]:
        if rel[idx] > TOLERANCES["sample_rank"] and sv[idx, 0] > 0:
            break
        pair = _exact_latent_pair(net, [Fraction(float(v)) for v in Z[idx]], dom)
        if pair is not None:
            return pair
    return None


def _exact_latent_pair(net: Network, z: list[Fraction], dom: _Domain | None) -> Pair | None:
    import flint

    d = net.latent_dim
    x = z
    J = flint.fmpq_mat(d, d, [flint.fmpq(int(i == j)) for i in range(d) for j in range(d)])
    pres = []
    for layer in net.layers:
        p = [u + exact.rational(bj) for u, bj in zip(exact.matvec(layer.weight, x), layer.bias.tolist())]
        breaks = [Fraction(c) for c in layer.activation.breakpoints]
        if any(p_ == c for p_ in p for c in breaks):
            return None
        slopes = [layer.activation.piece(v).slope for v in p]
        Wq = exact.to_fmpq_mat(layer.weight)
        J = Wq * J
        for i, s in enumerate(slopes):
            for j in range(d):
                J[i, j] = J[i, j] * flint.fmpq(s.numerator, s.denominator)
        pres.append((layer, p, slopes, breaks))
        x = list(exact.forward([(layer.weight, layer.bias, layer.activation)], x)[0])
    basis = exact.nullspace(J)
    if not basis:
        return None
    v = list(basis[0])
    # Directional derivatives of every pre-activation along v; step eps keeps each on its piece.
    eps = Fraction(1)
    dx = v
    for layer, p, slopes, breaks in pres:
        dp = exact.matvec(layer.weight, dx)
        for pv, dv in zip(p, dp):
            if dv == 0:
                continue
            for c in breaks:
                gap = c - pv
                if (gap > 0) == (dv > 0):  # moving towards the breakpoint
                    eps = min(eps, gap / dv / 2)
        dx = [s * t for s, t in zip(slopes, dp)]
    z0 = tuple(z)
    if dom is not None:
        if not _interior(dom, z0):
            return None
        eps = min(eps, _room(dom, z0, v))
    eps = _simplify_below(eps)
    z1 = tuple(a + eps * c for a, c in zip(z0, v))
    try:
        check_network_pair(net, {"z": jsonable(list(z0)), "z_prime": jsonable(list(z1))},
                           None if dom is None else _check_dom(dom))
    except CertificateError:
        return None
    return z0, z1


def network_injectivity(
    net: Network,
    *,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
    seed: int | None = None,
    domain: Any = None,
    max_exact_candidates: int = 100_000,
    quiet: bool = True,
) -> NetworkInjectivity:
    """Per-layer injectivity and the network's, with evidence.

    The network is CERTIFIED injective when every layer is (layer 0 on ``domain`` if given,
    later layers on all of their input space): a composition of injective maps is injective.
    A non-injective layer 0 refutes the network (its witness pair is a pair of latent codes).
    A non-injective later layer ``k`` does not by itself: its witness inputs need not be outputs
    of layers ``0..k-1``. The engine then tries, exactly, (1) to pull the witness pair back
    through the earlier layers, (2) for a ReLU layer ``k - 1``, a witness with both points in
    the open positive orthant, pulled back likewise, and (3) a latent point in a linear region
    where the whole network's Jacobian is singular. If all fail: UNKNOWN, "layer k not
    injective; network undecided".

    Examples
    --------
    >>> import numpy as np
    >>> B = np.eye(2)
    >>> net = Network([Layer(np.vstack([B, -B]), None, "relu"), Layer(np.eye(4), None, "leaky_relu:0.1")])
    >>> network_injectivity(net).status.value
    'CERTIFIED'
    """
    start = time.perf_counter()
    if not isinstance(net, Network):
        raise InvalidInput(f"net must be a theorychk Network; got {type(net).__name__}", argument="net",
                           got=type(net).__name__)
    check("time_limit", time_limit, [SECONDS, None])
    check("seed", seed, [NON_NEGATIVE_INT, None])
    check("max_exact_candidates", max_exact_candidates, [POSITIVE_INT])
    deadline = Deadline(time_limit)
    rng = np.random.default_rng(seed)
    dom = _parse_domain(domain, net.latent_dim)
    results: list[LayerInjectivity] = []
    for i, layer in enumerate(net.layers):
        rem = deadline.remaining()
        share = None if rem is None else max(rem / (net.depth - i), 1e-3)
        results.append(layer_injectivity(layer, time_limit=share, seed=int(rng.integers(2**31)),
                                         max_exact_candidates=max_exact_candidates,
                                         domain=dom if i == 0 else None, layer_index=i, quiet=quiet))

    def finish(status: Status, reason: str = "", witness: Pair | None = None,
               source: str = "") -> NetworkInjectivity:
        return NetworkInjectivity(status=status, reason=reason, layers=tuple(results), witness=witness,
                                  witness_source=source, domain=None if dom is None else dom.spec(),
                                  seed=seed, elapsed=time.perf_counter() - start)

    def inside(pair: Pair | None) -> TypeGuard[Pair]:
        return pair is not None and pair[0] != pair[1] and (
            dom is None or (dom.contains(pair[0]) and dom.contains(pair[1])))

    if all(r.status is Status.CERTIFIED for r in results):
        return finish(Status.CERTIFIED, "every layer is injective")
    refuted = [r for r in results if r.status is Status.REFUTED]
    if results[0].status is Status.REFUTED:
        return finish(Status.REFUTED, "layer 0 is not injective", results[0].witness, "layer 0 witness")
    for r in refuted:
        k = r.layer
        assert k is not None and r.witness is not None  # set for every layer; a REFUTED one has a witness
        pair = _realize(net, k, r.witness)
        if inside(pair) and _network_pair_ok(net, pair, dom):
            return finish(Status.REFUTED, f"layer {k} witness realized by the earlier layers", pair,
                          f"layer {k} witness pulled back")
        prev = net.layers[k - 1]
        # Only a previous ReLU layer whose image fills the orthant (full row rank) can produce an
        # arbitrary pair of positive points; otherwise this search would only waste time.
        if row_model(prev.activation).family == "relu" and exact.rank(prev.weight) == prev.n_out:
            orth = _Box(lower=tuple(Fraction(0) for _ in range(net.layers[k].n_in)),
                        upper=tuple(None for _ in range(net.layers[k].n_in)))
            sub = layer_injectivity(net.layers[k], seed=int(rng.integers(2**31)), domain=orth,
                                    max_exact_candidates=max_exact_candidates, time_limit=_left(deadline))
            if sub.status is Status.REFUTED:
                assert sub.witness is not None
                pair = _realize(net, k, sub.witness)
                if inside(pair) and _network_pair_ok(net, pair, dom):
                    return finish(Status.REFUTED, f"layer {k} orthant witness realized by the earlier layers",
                                  pair, f"layer {k} orthant witness pulled back")
    if refuted:
        pair = _latent_witness(net, rng, 4096, dom)
        if pair is not None:
            return finish(Status.REFUTED, "singular network Jacobian on a linear region", pair,
                          "latent linear-region witness")
        ks = ", ".join(str(r.layer) for r in refuted)
        return finish(Status.UNKNOWN, f"layer {ks} not injective; network undecided")
    unknown = [r for r in results if r.status is Status.UNKNOWN]
    return finish(Status.UNKNOWN, "; ".join(f"layer {r.layer}: {r.reason}" for r in unknown))


def _left(deadline: Deadline) -> float | None:
    rem = deadline.remaining()
    return None if rem is None else max(rem, 1e-3)


def _network_pair_ok(net: Network, pair: Pair, dom: _Domain | None) -> bool:
    try:
        check_network_pair(net, {"z": jsonable(list(pair[0])), "z_prime": jsonable(list(pair[1]))},
                           None if dom is None else _check_dom(dom))
    except CertificateError:
        return False
    return True

