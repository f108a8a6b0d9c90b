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
                 "--json", "--time-limit", "60"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["files"]) == {"cnf", "onnx", "vnnlib", "npz", "json", "proof"}
    assert data["verification"]["sat"]["status"] == "UNSAT"
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
         "theorychk: error: time_limit must be a positive number"),
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
