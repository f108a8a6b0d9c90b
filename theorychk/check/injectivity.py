"""Exact re-verification of global-injectivity claims (``layer_injective``, ``network_injective``).

Trusted code: imports only :mod:`theorychk.exact`, :mod:`theorychk.network`,
:mod:`theorychk.errors`, :mod:`theorychk.check` and the standard library / numpy. Everything a
claim asserts is recomputed here in rational arithmetic; the engine
(:mod:`theorychk.certify.injectivity`) only proposes. Theory and evidence format:
``docs/injectivity.md``.

The criterion (a ReLU layer ``x -> ReLU(W x + b)``, ``W`` of shape ``(m, d)``)
---------------------------------------------------------------------------
With ``S(x) = {j : <w_j, x> + b_j >= 0}`` ("``>= 0``", not "``> 0``"), the layer is injective on a
convex set ``D`` with nonempty interior iff ``rank W = d`` and no *candidate hyperplane* ``L`` —
a linear hyperplane spanned by ``d - 1`` linearly independent rows — admits ``x in D`` with
``<w_j, x> + b_j < 0`` for every row ``w_j`` not in ``L`` (proof in ``docs/injectivity.md``).

A certificate of injectivity is therefore: the rank, and for every candidate hyperplane a
*Farkas (Motzkin) certificate* that its strict system is infeasible: ``lambda >= 0`` on the rows
off ``L``, ``lambda != 0``, and (for ``D`` the box ``lower <= x <= upper``, with ``mu_upper,
mu_lower >= 0``; no box terms for ``D = R^d``)::

    sum_j lambda_j w_j + mu_upper - mu_lower = 0,
    sum_j lambda_j b_j - <mu_upper, upper> + <mu_lower, lower> >= 0.

*Why it proves infeasibility.* If ``x in D`` had ``<w_j, x> + b_j < 0`` for all off rows, then
``0 = <sum_j lambda_j w_j + mu_upper - mu_lower, x> < -sum_j lambda_j b_j + <mu_upper, upper> -
<mu_lower, lower> <= 0`` (the strict step: ``lambda >= 0``, ``lambda != 0``, every off-row value
negative; the box terms only loosen it as ``mu >= 0`` and ``lower <= x <= upper``), a
contradiction. The converse (such a certificate exists whenever the system is infeasible) is
Motzkin's transposition theorem; the checker needs only this direction.

One certificate may serve many hyperplanes: it is valid for ``L`` exactly when no row of its
support lies in ``L``. The checker recomputes the candidate hyperplanes itself
(:func:`candidate_hyperplanes`), so a certificate that omits one is rejected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from theorychk.check import ClaimCheck, Outcome, exactnet, verifier
from theorychk.check.intmat import layer_ints
from theorychk.check.rationals import parse_rational, parse_vector
from theorychk.errors import CertificateError, InvalidInput, TimeLimitReached
from theorychk.network import Layer, Network

__all__ = [
    "integer_rows",
    "candidate_hyperplanes",
    "check_farkas",
    "check_layer_pair",
    "check_network_pair",
    "verify_layer_injective",
    "verify_network_injective",
]

# --------------------------------------------------------------------------------------------
# Exact data of a layer
# --------------------------------------------------------------------------------------------


def integer_rows(layer: Layer) -> tuple[list[list[int]], list[int], Fraction]:
    """``(W_int, b_int, scale)`` with ``W == scale * W_int`` and ``b == scale * b_int`` exactly.

    One common positive scale (a power of two for float weights) for weights and bias, so every
    sign, rank and Farkas identity of ``(W, b)`` holds for the integers as well.
    """
    il = layer_ints(layer)
    low = min(il.w_exp, il.b_exp)
    sw, sb = 1 << (il.w_exp - low), 1 << (il.b_exp - low)
    rows = [[v * sw for v in row] for row in il.rows] if sw > 1 else il.rows
    return rows, [v * sb for v in il.bias], Fraction(2) ** low


def _dot(u: Sequence[int], v: Sequence[int]) -> int:
    return sum(a * b for a, b in zip(u, v))


def _reduce(v: list[int]) -> list[int]:
    g = math.gcd(*v)
    return [x // g for x in v] if g > 1 else v


def _split_parallel(group: list[int], proj: list[tuple[int, ...]]) -> list[list[int]]:
    """Partition rows (in increasing order) into classes of exactly parallel 2-D projections."""
    classes: list[list[int]] = []
    for j in group:
        a, b = proj[j]
        for c in classes:
            a0, b0 = proj[c[0]]
            if a * b0 == a0 * b:
                c.append(j)
                break
        else:
            classes.append([j])
    return classes


def candidate_hyperplanes(rows: Sequence[Sequence[int]], d: int, *,
                          stop: Callable[[], bool] | None = None) -> list[tuple[tuple[int, ...], int]]:
    """Every linear hyperplane of ``Q^d`` spanned by ``d - 1`` independent rows, exactly once.

    Returns ``(basis, members)`` pairs: ``basis`` is the *greedy basis* of the hyperplane (scan
    its member rows in increasing index and keep each row independent of those kept), which
    names it canonically; ``members`` is the bitmask of all rows lying in it (zero rows included).
    For ``d == 1`` the only candidate is ``{0}``, with the empty basis.

    Algorithm: depth-first over increasing independent prefixes ``P`` of ``d - 2`` rows with an
    integer basis of ``P^perp`` kept by fraction-free elimination. At a leaf, each row projects
    to ``Z^2 = P^perp``-coordinates; rows with zero projection lie in ``span P``, the others
    group by direction, and each direction class ``C`` is one hyperplane ``span(P + C)``. The
    hyperplane is reported only when ``P`` is the start of its greedy basis: no row skipped
    while independent (the set ``E`` below) lies in it. So each hyperplane appears once, and a
    subtree is cut as soon as a skipped row falls into ``span P``. Cost ``O(C(m, d - 2) m d)``.
    ``stop`` (optional) is polled at every node; when it returns true the enumeration raises
    :class:`~theorychk.errors.TimeLimitReached` (engines pass their deadline; the checker never stops early).

    Examples
    --------
    >>> candidate_hyperplanes([[1, 0], [0, 1], [2, 0]], 2)
    [((0,), 5), ((1,), 2)]
    """
    m = len(rows)
    zero = sum(1 << j for j in range(m) if not any(rows[j]))
    if d == 1:
        return [((), zero)]
    out: list[tuple[tuple[int, ...], int]] = []

    # proj[j] = (<r_j, n_1>, ..., <r_j, n_k>) for a basis n_1..n_k of span(prefix)^perp, kept
    # implicitly: adding row i replaces n_l by v_piv n_l - v_l n_piv (l != piv), which is
    # orthogonal to r_i. Each new column is divided by the gcd of its entries (a rational
    # rescaling of n_l: only zero patterns and directions of projections are used).
    def leaf(prefix: tuple[int, ...], proj: list[tuple[int, ...]], excluded: list[int]) -> None:
        in_span = 0
        # Rows with parallel projections share the hyperplane. Group by the correctly rounded
        # float of the slope a/b (parallel => the same rational => the same float), then split
        # each group exactly by cross products (distinct slopes may round alike).
        groups: dict[float, list[int]] = {}
        for j, (a, b) in enumerate(proj):
            if not b:
                if not a:
                    in_span |= 1 << j
                    continue
                key = math.inf
            else:
                try:
                    key = a / b
                except OverflowError:
                    key = math.inf if (a > 0) == (b > 0) else -math.inf
            groups.setdefault(key, []).append(j)
        ex = set(excluded)
        for group in groups.values():
            for members in _split_parallel(group, proj) if len(group) > 1 else (group,):
                if ex.intersection(members):
                    continue
                mask = in_span
                for j in members:
                    mask |= 1 << j
                out.append(((*prefix, members[0]), mask))

    def dfs(prefix: tuple[int, ...], proj: list[tuple[int, ...]], start: int, excluded: list[int]) -> None:
        if stop is not None and stop():
            raise TimeLimitReached("hyperplane enumeration stopped")
        if len(prefix) == d - 2:
            leaf(prefix, proj, excluded)
            return
        k = len(proj[0])
        skipped: list[int] = []
        for i in range(start, m):
            vals = proj[i]
            if not any(vals):
                continue  # i lies in span(prefix): never a greedy pick after the prefix
            piv = min((l for l in range(k) if vals[l]), key=lambda l: abs(vals[l]))
            vp = vals[piv]
            cols = []
            for l in range(k):
                if l != piv:
                    vl = vals[l]
                    col = [vp * p[l] - vl * p[piv] for p in proj] if vl else [vp * p[l] for p in proj]
                    cols.append(_reduce(col) if any(col) else col)
            new = list(zip(*cols))
            ex = excluded + skipped
            # A skipped independent row inside span(prefix + i) lies in every hyperplane below.
            if not any(not any(new[j]) for j in ex):
                dfs((*prefix, i), new, i + 1, ex)
            skipped.append(i)

    dfs((), [tuple(int(v) for v in r) for r in rows], 0, [])
    return out


def _index(value: Any, n: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
        raise CertificateError(f"{what} must be an index in [0, {n}); got {value!r}")
    return value


# --------------------------------------------------------------------------------------------
# Domains
# --------------------------------------------------------------------------------------------


def _domain(spec: Any, d: int) -> dict[str, Any] | None:
    """``None`` (all of ``R^d``), ``{"box": (lower, upper)}`` or ``{"ball": (center, r2)}``."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("box", "ball"):
        raise CertificateError(f"domain must be null, {{'box': ...}} or {{'ball': ...}}; got {spec!r}")
    if "box" in spec:
        box = spec["box"]
        if not isinstance(box, dict):
            raise CertificateError("domain box must have 'lower' and 'upper'")
        lo, up = parse_vector(box.get("lower"), d, "box lower"), parse_vector(box.get("upper"), d, "box upper")
        if any(a >= b for a, b in zip(lo, up)):
            raise CertificateError("domain box must have lower < upper in every coordinate")
        return {"box": (lo, up)}
    ball = spec["ball"]
    if not isinstance(ball, dict):
        raise CertificateError("domain ball must have 'center' and 'radius'")
    center, radius = parse_vector(ball.get("center"), d, "ball center"), parse_rational(ball.get("radius"), "ball radius")
    if radius <= 0:
        raise CertificateError("domain ball radius must be positive")
    return {"ball": (center, radius * radius)}


def _in_domain(x: Sequence[Fraction], dom: dict[str, Any] | None) -> bool:
    if dom is None:
        return True
    if "box" in dom:
        lo, up = dom["box"]
        return all(a <= v <= b for a, v, b in zip(lo, x, up))
    center, r2 = dom["ball"]
    return sum((v - c) ** 2 for v, c in zip(x, center)) <= r2


def _box_covers(box: tuple[list[Fraction], list[Fraction]], dom: dict[str, Any] | None) -> bool:
    """Whether the certified box contains the claimed domain (so injectivity carries over)."""
    lo, up = box
    if dom is None:
        return False
    if "box" in dom:
        dlo, dup = dom["box"]
        return all(a <= c for a, c in zip(lo, dlo)) and all(c <= b for c, b in zip(dup, up))
    center, r2 = dom["ball"]
    # [c - r, c + r] inside [lo, up]  <=>  (c - lo)^2 >= r^2 and (up - c)^2 >= r^2 with signs right
    return all(c - a >= 0 and (c - a) ** 2 >= r2 and b - c >= 0 and (b - c) ** 2 >= r2
               for a, c, b in zip(lo, center, up))


# --------------------------------------------------------------------------------------------
# Farkas certificates and witness pairs
# --------------------------------------------------------------------------------------------


def check_farkas(entry: Any, k: int, W: list[list[int]], b: list[int], scale: Fraction,
                 box: tuple[list[Fraction], list[Fraction]] | None) -> int:
    """Verify one Farkas certificate exactly; return the bitmask of its support rows.

    ``entry = {"rows": [j, ...], "multipliers": ["p/q", ...]}`` (plus ``"box_upper"`` /
    ``"box_lower"``: lists of ``d`` rationals when the domain is a box). Raises
    :class:`CertificateError` naming the failed condition.
    """
    m, d = len(W), (len(W[0]) if W else 0)
    if not isinstance(entry, dict):
        raise CertificateError(f"farkas certificate {k} must be an object with 'rows' and 'multipliers'")
    rows, mult = entry.get("rows"), entry.get("multipliers")
    if not isinstance(rows, list) or not rows:
        raise CertificateError(f"farkas certificate {k}: 'rows' must be a nonempty list of row indices")
    idx = [_index(j, m, f"farkas certificate {k} row") for j in rows]
    if len(set(idx)) != len(idx):
        raise CertificateError(f"farkas certificate {k}: repeated row index")
    lam = parse_vector(mult, len(idx), f"farkas certificate {k} multipliers")
    for j, v in zip(idx, lam):
        if v <= 0:
            raise CertificateError(f"farkas certificate {k}: multiplier of row {j} is not positive ({v})")
    # Work on the integer rows: W = scale * W_int, b = scale * b_int with scale > 0.
    comb = [sum((v * W[j][i] for j, v in zip(idx, lam)), Fraction(0)) * scale for i in range(d)]
    rhs = sum((v * b[j] for j, v in zip(idx, lam)), Fraction(0)) * scale
    if box is not None:
        mu_up = parse_vector(entry.get("box_upper"), d, f"farkas certificate {k} box_upper")
        mu_lo = parse_vector(entry.get("box_lower"), d, f"farkas certificate {k} box_lower")
        if any(v < 0 for v in mu_up + mu_lo):
            raise CertificateError(f"farkas certificate {k}: a box multiplier is negative")
        lo, up = box
        comb = [c + u - l for c, u, l in zip(comb, mu_up, mu_lo)]
        rhs += sum(l * a for l, a in zip(mu_lo, lo)) - sum(u * a for u, a in zip(mu_up, up))
    elif "box_upper" in entry or "box_lower" in entry:
        raise CertificateError(f"farkas certificate {k}: box multipliers but the domain is not a box")
    if any(c != 0 for c in comb):
        raise CertificateError(f"farkas certificate {k}: sum of multipliers times rows is not zero")
    if rhs < 0:
        raise CertificateError(f"farkas certificate {k}: sum of multipliers times biases is negative ({rhs})")
    return sum(1 << j for j in idx)


def _layer_exact(layer: Layer, x: list[Fraction]) -> list[Fraction]:
    """``act(W x + b)`` exactly, by the checker's own :func:`activation_exact` (piecewise-linear layers)."""
    spec = layer.activation.spec
    out = exactnet.forward([layer_ints(layer)], [spec], x)[0][2]
    if out is None:
        raise CertificateError(f"activation {spec!r} has no exact value")
    return list(out)


def _outputs_equal(layers: Sequence[Layer], x: list[Fraction], y: list[Fraction]) -> tuple[bool, str]:
    """Whether the layers map ``x`` and ``y`` to the same output, decided exactly.

    Piecewise-linear layers are evaluated exactly; once both sides agree exactly every later
    layer agrees too. A smooth activation (tanh, sigmoid) is accepted only if its two
    pre-activations are already equal, since its values are not rational.
    """
    for i, layer in enumerate(layers):
        if x == y:
            return True, ""
        if layer.activation.piecewise_linear:
            x, y = _layer_exact(layer, x), _layer_exact(layer, y)
        else:
            il = layer_ints(layer)
            px, py = exactnet.pre_activation(il, x), exactnet.pre_activation(il, y)
            if px != py:
                return False, (f"layer {i} ({layer.activation.spec}) cannot be evaluated exactly and its "
                               "pre-activations differ")
            return True, ""
    if x != y:
        i = next(k for k in range(len(x)) if x[k] != y[k])
        return False, f"outputs differ at unit {i}"
    return True, ""


def _check_pair(layers: Sequence[Layer], dim: int, pair: Any, names: tuple[str, str],
                dom: dict[str, Any] | None) -> None:
    """Two distinct points ``pair[names[0]]``, ``pair[names[1]]`` of R^dim in ``dom`` with equal
    outputs through ``layers``, exactly; else :class:`CertificateError`."""
    first, second = names
    if not isinstance(pair, dict):
        raise CertificateError(f"witness must be an object with '{first}' and '{second}'")
    x = parse_vector(pair.get(first), dim, f"witness {first}")
    y = parse_vector(pair.get(second), dim, f"witness {second}")
    if x == y:
        raise CertificateError(f"witness pair: {first} and {second} are equal")
    if not (_in_domain(x, dom) and _in_domain(y, dom)):
        raise CertificateError("witness pair: a point lies outside the domain")
    ok, why = _outputs_equal(layers, x, y)
    if not ok:
        raise CertificateError(f"witness pair: {why}")


def check_layer_pair(layer: Layer, pair: Any, dom: dict[str, Any] | None = None) -> None:
    """Verify a witness pair ``{"x": [...], "x_prime": [...]}`` of non-injectivity exactly."""
    _check_pair([layer], layer.n_in, pair, ("x", "x_prime"), dom)


def check_network_pair(net: Network, pair: Any, dom: dict[str, Any] | None = None) -> None:
    """Verify latent codes ``{"z": [...], "z_prime": [...]}`` with ``G(z) == G(z')`` exactly."""
    _check_pair(net.layers, net.latent_dim, pair, ("z", "z_prime"), dom)


# --------------------------------------------------------------------------------------------
# Verifiers
# --------------------------------------------------------------------------------------------


def _guarded(kind: str, fn: Callable[[dict[str, Any], Network, dict[str, Any]], ClaimCheck]
             ) -> Callable[[dict[str, Any], Any, dict[str, Any]], ClaimCheck]:
    """Fail closed: any malformed input becomes REJECTED with its message, never a traceback."""

    def run(claim: dict[str, Any], net: Any, cert: dict[str, Any]) -> ClaimCheck:
        try:
            if not isinstance(claim, dict):
                raise CertificateError(f"claim must be an object; got {type(claim).__name__}")
            if not isinstance(net, Network):
                raise CertificateError("no network to check the claim against")
            status = claim.get("status")
            if status == "UNKNOWN":
                return ClaimCheck(kind, Outcome.NO_CLAIM, str(claim.get("reason", "")))
            if status not in ("CERTIFIED", "REFUTED"):
                raise CertificateError(f"status must be CERTIFIED, REFUTED or UNKNOWN; got {status!r}")
            if claim.get("evidence_kind", "exact") == "solver":
                return ClaimCheck(kind, Outcome.NOT_CHECKABLE, f"{claim.get('method', 'solver')}: solver evidence")
            if claim.get("evidence_kind", "exact") != "exact":
                got = claim.get("evidence_kind")
                raise CertificateError(f"evidence_kind must be 'exact' or 'solver'; got {got!r}")
            return fn(claim, net, cert)
        except (CertificateError, InvalidInput) as exc:
            return ClaimCheck(kind, Outcome.REJECTED, str(exc))

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def _layer_of(claim: dict[str, Any], net: Network) -> tuple[int, Layer]:
    i = _index(claim.get("layer"), net.depth, "claim 'layer'")
    return i, net.layers[i]


def _check_injective_layer(i: int, layer: Layer, ev: dict[str, Any],
                           dom: dict[str, Any] | None) -> dict[str, Any]:
    """Re-derive 'layer ``i`` is injective (on ``dom``)' from its evidence; return details."""
    d = layer.n_in
    r = layer_ints(layer).rank  # cached with the layer's integer form
    if ev.get("rank") != r:
        raise CertificateError(f"layer {i}: claimed rank {ev.get('rank')!r} but W has rank {r}")
    if r != d:
        raise CertificateError(f"layer {i}: rank of W is {r}, not {d}: not injective")
    if layer.activation.invertible:
        return {"layer": i, "rank": r, "method": "full column rank"}
    if layer.activation.name != "relu":
        raise CertificateError(
            f"layer {i}: no injectivity criterion for activation {layer.activation.spec!r}")
    box = None
    if dom is not None:
        if "box" not in ev:
            raise CertificateError(f"layer {i}: a domain claim needs the certified 'box'")
        box_dom = _domain({"box": ev["box"]}, d)
        box = box_dom["box"]  # type: ignore[index]
        if not _box_covers(box, dom):
            raise CertificateError(f"layer {i}: the certified box does not contain the claimed domain")
    W, b, scale = integer_rows(layer)
    farkas = ev.get("farkas")
    if not isinstance(farkas, list):
        raise CertificateError(f"layer {i}: 'farkas' must be a list of certificates")
    supports = [check_farkas(e, k, W, b, scale, box) for k, e in enumerate(farkas)]
    listed = ev.get("hyperplanes")
    if not isinstance(listed, list):
        raise CertificateError(f"layer {i}: 'hyperplanes' must be a list of [basis rows, certificate index]")
    assigned: dict[tuple[int, ...], int] = {}
    for entry in listed:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], list)):
            raise CertificateError(
                f"layer {i}: hyperplane entry must be [basis rows, certificate index]; got {entry!r}")
        basis = tuple(_index(j, len(W), "hyperplane basis row") for j in entry[0])
        if basis in assigned:
            raise CertificateError(f"layer {i}: hyperplane {list(basis)} is listed twice")
        assigned[basis] = _index(entry[1], len(supports), f"certificate index of hyperplane {list(basis)}")
    recomputed = candidate_hyperplanes(W, d)
    for basis, members in recomputed:
        k = assigned.pop(basis, None)
        if k is None:
            raise CertificateError(
                f"coverage: hyperplane spanned by rows {list(basis)} has no Farkas certificate")
        clash = supports[k] & members
        if clash:
            j = (clash & -clash).bit_length() - 1
            raise CertificateError(f"hyperplane {list(basis)}: farkas certificate {k} uses row {j}, "
                                   "which lies in the hyperplane")
    if assigned:
        basis = next(iter(assigned))
        raise CertificateError(f"hyperplane entry {list(basis)} is not a candidate hyperplane "
                               "(greedy basis of d-1 independent rows)")
    return {"layer": i, "rank": r, "hyperplanes": len(recomputed), "farkas": len(farkas)}


def verify_layer_injective(claim: dict[str, Any], net: Network, cert: dict[str, Any]) -> ClaimCheck:
    """Check a ``layer_injective`` claim: CERTIFIED by rank + Farkas coverage, REFUTED by a pair."""
    i, layer = _layer_of(claim, net)
    ev = claim.get("evidence")
    if not isinstance(ev, dict):
        raise CertificateError("claim 'evidence' must be an object")
    dom = _domain(claim.get("domain"), layer.n_in)
    if claim["status"] == "REFUTED":
        check_layer_pair(layer, ev.get("witness"), dom)
        return ClaimCheck("layer_injective", Outcome.VERIFIED, f"layer {i} is not injective: witness pair verified",
                          {"layer": i})
    details = _check_injective_layer(i, layer, ev, dom)
    return ClaimCheck("layer_injective", Outcome.VERIFIED, f"layer {i} is injective", details)


def verify_network_injective(claim: dict[str, Any], net: Network, cert: dict[str, Any]) -> ClaimCheck:
    """Check a ``network_injective`` claim.

    CERTIFIED: the evidence holds one injectivity proof per layer (``"layers"``: the evidence
    objects of ``layer_injective`` claims, layer 0 on the claimed domain, later layers on all
    of their input space), each re-verified here — injective layers compose to an injective
    network. REFUTED: latent codes ``z != z'`` with ``G(z) == G(z')`` exactly.
    """
    ev = claim.get("evidence")
    if not isinstance(ev, dict):
        raise CertificateError("claim 'evidence' must be an object")
    dom = _domain(claim.get("domain"), net.latent_dim)
    if claim["status"] == "REFUTED":
        check_network_pair(net, ev.get("witness"), dom)
        return ClaimCheck("network_injective", Outcome.VERIFIED, "network is not injective: witness pair verified")
    layers = ev.get("layers")
    if not isinstance(layers, list) or len(layers) != net.depth:
        raise CertificateError(f"evidence 'layers' must hold one proof per layer ({net.depth})")
    details = []
    for i, (layer, lev) in enumerate(zip(net.layers, layers)):
        if not isinstance(lev, dict):
            raise CertificateError(f"evidence for layer {i} must be an object")
        details.append(_check_injective_layer(i, layer, lev, dom if i == 0 else None))
    return ClaimCheck("network_injective", Outcome.VERIFIED, "every layer is injective, hence the network",
                      {"layers": details})


def _layer_scope(claim: dict[str, Any], tr: Any, a: list[Fraction], b: list[Fraction]) -> bool:
    """``layer_injective`` asserts: no two distinct inputs of the layer (in its domain) with one output."""
    from theorychk.check.core import trace

    i, layer = _layer_of(claim, tr.net)
    dom = _domain(claim.get("domain"), layer.n_in)
    x, y = list(trace(tr.net, a).inputs[i]), list(trace(tr.net, b).inputs[i])
    return x != y and _in_domain(x, dom) and _in_domain(y, dom) and _outputs_equal([layer], x, y)[0]


def _network_scope(claim: dict[str, Any], tr: Any, a: list[Fraction], b: list[Fraction]) -> bool:
    """``network_injective`` asserts: no two distinct latents in its domain with one output."""
    dom = _domain(claim.get("domain"), tr.net.latent_dim)
    return a != b and _in_domain(a, dom) and _in_domain(b, dom)


verifier("layer_injective", refutable=True, scope=_layer_scope)(_guarded("layer_injective", verify_layer_injective))
verifier("network_injective", refutable=True, scope=_network_scope)(
    _guarded("network_injective", verify_network_injective))
