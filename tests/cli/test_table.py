"""theorychk.cli._table: the plain tables of commands whose start-up matters (no rich import)."""

import io

import pytest

from theorychk.cli._table import echo, render

HEADERS = ("invariant", "value", "bounds", "status", "lower bound by", "upper bound by", "seconds")
ROWS = [["spark", "10", "[10, 10]", "CERTIFIED", "enumeration", "enumeration", "0.090"],
        ["coherence", "-", "[0.778904, 0.778904]", "CERTIFIED", "exact squared cosine of the attaining pair",
         "exact maximum of squared cosines over all pairs", "0.000"]]


def test_a_table_that_fits_is_drawn_as_rich_draws_it():
    from rich.console import Console
    from rich.table import Table

    rows = [r[:4] for r in ROWS]
    table = Table(title="invariants of M.npy")
    for h in HEADERS[:4]:
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(*r)
    out = io.StringIO()
    Console(file=out, width=100, color_system=None, legacy_windows=False).print(table)
    expected = [line.rstrip() for line in out.getvalue().splitlines()]
    assert render("invariants of M.npy", HEADERS[:4], rows, width=100).splitlines() == expected


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_cells_fold_to_the_width_and_keep_every_word(width):
    text = render("invariants of M.npy", HEADERS, ROWS, width=width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert len({len(line) for line in lines[1:]}) == 1  # a rectangle under the title
    head_end = next(i for i, line in enumerate(lines) if line.startswith("┡"))
    for part, texts in ((lines[2:head_end], [HEADERS]), (lines[head_end + 1 : -1], ROWS)):
        columns = zip(*(line[1:-1].split(line[0]) for line in part), strict=True)
        for k, column in enumerate(columns):  # a column's lines, read down, give its cells in order
            assert "".join("".join(column).split()) == "".join("".join(r[k] for r in texts).split())


def test_ascii_borders_where_the_terminal_cannot_encode_box_drawing(monkeypatch, capsys):
    assert set(render("t", ["a"], [["x"]], ascii_only=True)) <= set("t ax+-=|\n")
    monkeypatch.setattr("sys.stdout", io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    echo("t", ["a"], [["x"]])  # no UnicodeEncodeError
