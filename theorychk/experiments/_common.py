"""Helpers shared by the experiments: random nets, errors, grouping, markdown tables, plots."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from theorychk.network import Layer, Network


def gaussian_net(widths: Sequence[int], activations: Sequence[str], rng: np.random.Generator,
                 *, scale: str = "out") -> Network:
    """Bias-free Gaussian net; ``W_i`` entries ``N(0, 1/n)`` with ``n`` the layer's output size
    (``scale="out"``, paper 002 §5.1's ``N(0, 1/n_i)``) or input size (``scale="in"``)."""
    layers = []
    for n_in, n_out, act in zip(widths[:-1], widths[1:], activations, strict=True):
        var = 1.0 / (n_out if scale == "out" else n_in)
        layers.append(Layer(rng.standard_normal((n_out, n_in)) * math.sqrt(var), None, act))
    return Network(layers)


def rel_error(estimate: np.ndarray | None, truth: np.ndarray) -> float:
    if estimate is None or not np.all(np.isfinite(estimate)):
        return float("inf")
    return float(np.linalg.norm(np.asarray(estimate) - truth) / max(np.linalg.norm(truth), 1e-300))


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``fn()``, its CPU (process) seconds and wall seconds."""
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c0, time.perf_counter() - w0


def group(rows: Iterable[dict[str, Any]], *keys: str) -> dict[tuple, list[dict[str, Any]]]:
    out: dict[tuple, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[tuple(r[k] for k in keys)].append(r)
    def order(kv: tuple) -> tuple:
        return tuple((0, v, "") if isinstance(v, (int, float)) and not isinstance(v, bool) else (1, 0, str(v))
                     for v in kv[0])

    return dict(sorted(out.items(), key=order))


def finite(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and np.isfinite(float(v))]


def median(values: Iterable[Any]) -> float:
    vals = [float("inf") if v is None else float(v) for v in values]
    return float(np.median(vals)) if vals else float("nan")


def fmt(x: Any, digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    x = float(x)
    if not np.isfinite(x):
        return "∞" if x > 0 else ("nan" if np.isnan(x) else "−∞")
    if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e5):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for r in rows:
        lines.append("| " + " | ".join(c if isinstance(c, str) else fmt(c) for c in r) + " |")
    return "\n".join(lines) + "\n"


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    try:
        import matplotlib
    except ModuleNotFoundError as exc:
        from theorychk.errors import MissingDependency

        raise MissingDependency("experiments draw plots with matplotlib: pip install 'theorychk[plot]'") from exc
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def loglog_slope(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log10 y against log10 x over the positive finite pairs."""
    pts = [(math.log10(a), math.log10(b)) for a, b in zip(x, y, strict=True)
           if a > 0 and b > 0 and np.isfinite(a) and np.isfinite(b)]
    if len(pts) < 2:
        return float("nan")
    xs, ys = np.array(pts).T
    return float(np.polyfit(xs, ys, 1)[0])
