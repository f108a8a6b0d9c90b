"""``docs/theory.md``, generated from the registry: every theorem's printed and checked
statement, what changed, its predicted bound and its falsify search.

``theorychk theorems --markdown > docs/theory.md`` writes the guide; a test keeps the committed
file equal to :func:`render` so the docs cannot drift from the code. The preamble (conventions,
what ``falsify`` found) is :data:`PREAMBLE`; everything after it comes from the
:class:`~theorychk.theorems.base.Theorem` objects.
"""

from __future__ import annotations

from theorychk.theorems.base import Theorem, all_theorems

__all__ = ["PREAMBLE", "render", "section"]

PREAMBLE = """\
# Theory guide: the theorems theorychk checks, with errata

Every statement below is an object in `theorychk.theorems` (`get_theorem(name)`): `hypotheses(instance)` and
`conclusion(instance, result)` return reports (each item true/false with its numbers; exact rational
arithmetic wherever an item is a claim: ranks, sparks, `c_inf`/`c_1`, coherences, supports), and the
predicted bound is one sympy expression, printed below as the paper prints it and evaluated exactly on
rationals by `theorem.evaluate_bound({...})`. `theorychk theorems` lists them; `theorychk falsify NAME
--budget N --seed S` lets Hypothesis search for an instance where the hypotheses hold and the conclusion fails,
and says how many of the examples it tried met the hypotheses (a search where they never hold proves nothing).

This file is generated: `theorychk theorems --markdown > docs/theory.md` (a test checks it is current).

Status: **holds** (correct as printed), **corrected** (printed statement garbled or wrong in a detail; the
corrected statement is what is checked), **false as printed** (a counterexample exists).

Conventions: `W_i` has shape `(n_out, n_in)`, layers indexed from the latent side (the papers print
`W_i ∈ R^{n_{i-1} × n_i}`, flagged by the reviews 003). Paper-001 numbering differs from the NeurIPS version
(002): we use 002's (Theorem 3 = ℓ∞, Theorem 4 = ℓ1; 001 has them swapped).

What `falsify` found (budget 100, seed 0, unless stated):

* `lei2019.reduction_two_layer` — shrunk to the one-clause formula `(x1 ∨ x2 ∨ x3)` (6 of 8 binary
  assignments disagree).
* `lei2019.lemma1` — a 5×2 Gaussian layer (expansion 2.5 ≥ 2.1) with an exact witness pair `x ≠ x'`,
  `ReLU(Wx) = ReLU(Wx')`.
* `aberdam2020.theorem2` (Algorithm 2 as printed) — a 1-4-4 net whose last layer has columns of norm ≈ 0.25:
  the Lasso shrinks them by `2ε/d²`, error 0.185 against bound (7) = 0.139. The same search finds nothing
  for `aberdam2020.theorem2_normalized`, the algorithm the proof analyses.
* `aberdam2020.corollary2` is false as printed too, but only when the last layer is underdetermined with
  unequal column norms; the strategy draws overdetermined last layers, so its counterexample is hand-made
  (the statement below) and pinned by a test.
* No counterexample for the others.
"""


def section(t: Theorem) -> str:
    """The markdown section of one theorem."""
    out = [f"## `{t.name}` — {t.title}", "", f"*{t.citation}* — status: **{t.status}**", "",
           f"**As printed.** {t.printed}", ""]
    if t.corrected:
        out += [f"**Checked (corrected).** {t.corrected}", ""]
    if t.changes:
        out += [f"**What changed and why.** {t.changes}", ""]
    if t.bound is not None:
        out += ["**Predicted bound.**", "", "```", t.pretty_bound(), "```", ""]
        if t.symbols:
            out += ["symbols: " + "; ".join(f"`{k}` = {v}" for k, v in t.symbols.items()), ""]
    if t.instances is not None and t.run is not None:
        out.append(f"Falsify: `theorychk falsify {t.name}`.")
    else:
        out.append("Falsify: no instance strategy (check your own instances with `theorem.check(instance, result)`).")
    return "\n".join(out) + "\n"


def render() -> str:
    """The whole guide: :data:`PREAMBLE` and one :func:`section` per registered theorem."""
    return PREAMBLE + "".join("\n" + section(t) for t in all_theorems())
