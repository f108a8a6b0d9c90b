"""Plain-text tables for commands whose start-up matters, without importing rich.

``theorychk invariants M.npy --spark`` on a small matrix spends a tenth of its ~0.3 s of CPU
importing rich to print one table (issue 18). :func:`render` draws the same kind of table as
rich's default (heavy head, light body, the title centred above), folding cells to the terminal's
width (80 columns when stdout is not a terminal, as rich does), with no colours.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from collections.abc import Sequence

__all__ = ["render", "echo"]

#: top, header row, header rule, body row, bottom: left, fill, divider, right
_UNICODE = ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "└─┴┘")
_ASCII = ("+-++", "| ||", "+=++", "| ||", "+-++")


def _lines(text: str, width: int) -> list[str]:
    out: list[str] = []
    for line in text.splitlines() or [""]:
        out += textwrap.wrap(line, width, break_long_words=True, break_on_hyphens=False,
                             drop_whitespace=True) or [""]
    return out


def render(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]], *, width: int = 80,
           ascii_only: bool = False) -> str:
    """The table as text of at most ``width`` columns (when its borders fit at all).

    The widest columns give way first; a cell folds at spaces, a word longer than its column
    is split.

    >>> print(render("t", ["name", "value"], [["spark", 10]]))
            t
    ┏━━━━━━━┳━━━━━━━┓
    ┃ name  ┃ value ┃
    ┡━━━━━━━╇━━━━━━━┩
    │ spark │ 10    │
    └───────┴───────┘
    """
    cells = [[str(c) for c in row] for row in rows]
    k = len(headers)
    natural = [max(len(line) for text in [h, *(r[i] for r in cells)] for line in text.splitlines() or [""])
               for i, h in enumerate(headers)]
    widths = [max(1, w) for w in natural]
    room = max(k, width - (3 * k + 1))  # each column: its text, a space either side, one border
    while sum(widths) > room:
        widths[widths.index(max(widths))] -= 1
    top, head, rule, body, bottom = _ASCII if ascii_only else _UNICODE

    def border(style: str) -> str:
        return style[0] + style[2].join(style[1] * (w + 2) for w in widths) + style[3]

    def row(texts: Sequence[str], style: str, bottom_align: bool) -> list[str]:
        folded = [_lines(t, w) for t, w in zip(texts, widths)]
        height = max(len(f) for f in folded)
        folded = [([""] * (height - len(f)) + f) if bottom_align else (f + [""] * (height - len(f)))
                  for f in folded]
        return [style[0] + style[2].join(f" {f[i].ljust(w)} " for f, w in zip(folded, widths)) + style[3]
                for i in range(height)]

    lines = [border(top), *row(headers, head, True), border(rule)]
    for r in cells:
        lines += row(r, body, False)
    lines.append(border(bottom))
    total = len(lines[0])
    titled = [t.center(total).rstrip() for t in _lines(title, total)] if title else []
    return "\n".join(titled + lines)


def echo(title: str, headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print :func:`render` on stdout, as wide as the terminal (80 columns when not a terminal)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "┏━┃│└".encode(encoding)
        ascii_only = False
    except (UnicodeEncodeError, LookupError):
        ascii_only = True
    width = shutil.get_terminal_size((80, 24)).columns
    sys.stdout.write(render(title, headers, rows, width=width, ascii_only=ascii_only) + "\n")
