"""`theorychk reduce`: instance summary and verification as JSON, exports, one-line errors."""

import json

import pytest

from theorychk.cli import main


def test_reduce_random_verify_json(capsys):
    assert main(["reduce", "--vars", "5", "--clauses", "21", "--seed", "1", "--verify", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["instance"]["construction"] == "four-layer"
    assert data["instance"]["n_vars"] == 5 and data["instance"]["n_clauses"] == 21
    assert data["instance"]["target"] == ["21", "0"] and data["instance"]["gap_linf"] == "1/2"
    v = data["verification"]
    assert v["status"] == "CERTIFIED" and v["exhaustive"] is True
    assert [c["name"] for c in v["checks"]][:2] == ["models", "boolean-preimages"]


def test_reduce_cnf_file_exports_and_keeps_the_proof(tmp_path, capsys):
    cnf = tmp_path / "f.cnf"
    cnf.write_text("c name: pigeons\np cnf 2 4\n1 2 0\n-1 2 0\n1 -2 0\n-1 -2 0\n")
    out = tmp_path / "out"
    code = main(["reduce", "--cnf", str(cnf), "--construction", "bias-free", "--out", str(out), "--verify",
                 "--json", "--time-limit", "60", "--milp-gap"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["files"]) == {"cnf", "onnx", "vnnlib", "npz", "json", "proof"}
    assert data["verification"]["sat"]["status"] == "UNSAT"
    names = [c["name"] for c in data["verification"]["checks"]]
    assert names == ["models", "boolean-preimages", "construction", "milp-gap", "drup-proof"]
    gap = next(c for c in data["verification"]["checks"] if c["name"] == "milp-gap")
    assert gap["status"] == "CERTIFIED" and gap["method"].startswith("MILP-proven")
    assert (out / "pigeons.drup").is_file()


def test_reduce_table_output(capsys):
    assert main(["reduce", "--vars", "4", "--clauses", "6", "--seed", "0", "--construction", "one-hidden"]) == 0
    out = capsys.readouterr().out
    assert "one-hidden--random-3cnf-n4-m6-seed-0" in out and "4 -> 22 -> 2" in out


def test_printed_construction_exits_1_with_counterexamples(capsys):
    assert main(["reduce", "--vars", "5", "--clauses", "21", "--seed", "1", "--construction", "printed",
                 "--verify", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["verification"]["status"] == "REFUTED"
    assert [c["kind"] for c in data["counterexamples"]][:2] == ["real-latent", "and-not-or"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reduce", "--cnf", "{bad}"], "theorychk: error: DIMACS file bad.cnf line 2: the last clause is not terminated by 0; got '1 2'"),
        (["reduce", "--cnf", "{missing}"], "theorychk: error: DIMACS file not found"),
        (["reduce", "--vars", "5", "--clauses", "21"], "theorychk: error: give --cnf FILE, or --vars N --clauses M --seed S for a random 3-CNF; missing --seed"),
        (["reduce", "--cnf", "{bad}", "--vars", "3"], "theorychk: error: give either --cnf FILE or --vars N --clauses M --seed S, not both"),
        (["reduce", "--vars", "5", "--clauses", "21", "--seed", "1", "--construction", "four-layr"],
         "theorychk: error: unknown construction 'four-layr'; valid: bias-free, binary, four-layer, katz, one-hidden, printed; did you mean 'four-layer'?"),
        (["reduce", "--vars", "5", "--clauses", "21", "--seed", "1", "--verify", "--time-limit", "0"],
         "Invalid value for '--time-limit': must be a positive number of seconds"),
        (["reduce", "--vars", "2", "--clauses", "3", "--seed", "1"], "theorychk: error: k must be an integer in 1..n_vars=2"),
    ],
)
def test_errors_are_one_line_exit_2(tmp_path, capsys, args, message):
    bad = tmp_path / "bad.cnf"
    bad.write_text("p cnf 3 1\n1 2\n")
    args = [a.replace("{bad}", str(bad)).replace("{missing}", str(tmp_path / "missing.cnf")) for a in args]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "theorychk", *args], capture_output=True, text=True, timeout=300)


def test_unsat_verify_needs_no_milp_and_stdout_is_one_json_document():
    """n = 60 at the threshold, UNSAT: the MILP made this take minutes; now proof + construction check."""
    r = _cli("reduce", "--vars", "60", "--clauses", "256", "--seed", "1", "--verify", "--json", "--quiet",
             "--time-limit", "120")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # no solver banner on stdout
    v = data["verification"]
    assert v["sat"]["status"] == "UNSAT" and v["status"] == "CERTIFIED"
    assert [c["name"] for c in v["checks"]] == ["models", "boolean-preimages", "construction", "drup-proof"]


def test_sat_verify_json_keeps_highs_banner_off_stdout():
    r = _cli("reduce", "--vars", "6", "--clauses", "20", "--seed", "1", "--verify", "--json", "--quiet")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["verification"]["sat"]["status"] == "SAT"


def test_help_states_the_exit_codes_the_command_returns(tmp_path, cli_on_fake_clock):
    text = " ".join(_cli("reduce", "--help").stdout.split())
    assert "0 the instance was built" in text and "1 --verify ended REFUTED" in text and "2 bad input" in text
    assert "formula with no clause" in text
    # 1 on UNKNOWN: the time limit passes (on a fake clock: an hour per look, whatever the machine)
    r = cli_on_fake_clock(3600.0, "reduce", "--vars", "20", "--clauses", "85", "--seed", "0", "--verify",
                           "--milp-gap", "--json", "--time-limit", "60")
    assert r.returncode == 1 and json.loads(r.stdout)["verification"]["status"] == "UNKNOWN"
    # 2 on an empty formula: refused, one line
    empty = tmp_path / "empty.cnf"
    empty.write_text("p cnf 3 0\n")
    r = _cli("reduce", "--cnf", str(empty))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "needs at least one variable and one clause; got 3 variables and 0 clauses" in r.stderr
    r = _cli("reduce", "--vars", "5", "--clauses", "21", "--seed", "1", "--milp-gap")
    assert r.returncode == 2 and "--milp-gap is a part of --verify" in r.stderr
