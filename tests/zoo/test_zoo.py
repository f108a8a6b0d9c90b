"""The zoo: every shipped net loads, matches its model card, and is what the script trains."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys

import numpy as np
import pytest

from theorychk import zoo
from theorychk.errors import InvalidInput
from theorychk.io import load_network
from theorychk.network import PLU, LeakyReLU, ReLU, Sigmoid, parse_activation
from theorychk.zoo import train

NAMES = zoo.names()


def parse_card(text: str) -> dict[str, str]:
    """The key/value table at the top of a model card, backticks stripped."""
    rows = {}
    for line in text.splitlines():
        m = re.fullmatch(r"\| ([^|]+?) \| (.+?) \|", line)
        if m and m[1] not in ("key", "---"):
            rows.setdefault(m[1], m[2].strip("`"))
    return rows


def card_table(name: str) -> dict[str, str]:
    return parse_card(zoo.card(name))


def test_the_three_nets_are_shipped_with_cards() -> None:
    assert {"vae-relu", "aberdam", "vae-leaky"} <= set(NAMES)
    assert NAMES == sorted(train.SPECS)  # the script trains exactly what is shipped
    for name in NAMES:
        assert zoo.path(name).is_file() and zoo.path(name).with_suffix(".md").is_file()


@pytest.mark.parametrize("name", NAMES)
def test_loads_both_ways(name: str) -> None:
    via_io = load_network(f"zoo:{name}")
    via_zoo = zoo.load(name)
    assert via_io == via_zoo
    assert via_io.fingerprint() == via_zoo.fingerprint()
    assert via_io.name == name


@pytest.mark.parametrize("name", NAMES)
def test_matches_its_card(name: str) -> None:
    net, table = zoo.load(name), card_table(name)
    assert table["name"] == name
    assert table["widths"] == "-".join(map(str, net.widths))
    assert table["activations"] == ",".join(a.spec for a in net.activations)
    assert table["fingerprint"] == net.fingerprint()
    assert int(table["parameters"]) == net.n_params
    assert table["dtype"] == "float32"
    assert all(layer.dtype == "float32" for layer in net.layers)
    assert np.isfinite(float(table["final loss"]))
    assert f"--only {name}" in table["command"]


@pytest.mark.parametrize("name", NAMES)
def test_matches_the_training_spec(name: str) -> None:
    net, spec = zoo.load(name), train.SPECS[name]
    assert net.widths == spec.widths
    assert net.activations == tuple(parse_activation(a) for a in spec.activations)


@pytest.mark.parametrize("name", NAMES)
def test_forward_lands_in_the_output_range(name: str) -> None:
    net = zoo.load(name)
    z = np.random.default_rng(0).standard_normal((16, net.latent_dim))
    pre, post = net.trace(z)
    out_act = net.activations[-1]
    x = post[-1]
    assert x.shape == (16, 64) and np.all(np.isfinite(x))
    if isinstance(out_act, Sigmoid):
        assert np.all((x > 0) & (x < 1))
    # every output activation of the zoo is invertible: the last pre-activation is recovered
    # (away from sigmoid's upper saturation, where 1 - x underflows the spacing of floats near 1;
    # the lower tail is exact since Sigmoid uses expit)
    assert out_act.invertible
    unsaturated = pre[-1] < 15
    assert unsaturated.mean() > 0.9
    np.testing.assert_allclose(out_act.inverse(x)[unsaturated], pre[-1][unsaturated], rtol=1e-8, atol=1e-8)
    # generated digits look like digits: mostly inside [0, 1], not constant
    assert np.mean((x > -0.05) & (x < 1.05)) > 0.95
    assert np.std(x, axis=0).max() > 0.1


def test_documented_shapes() -> None:
    relu = zoo.load("vae-relu")
    assert relu.latent_dim <= 6  # small enough for exact global analysis
    assert isinstance(relu.activations[0], ReLU) and isinstance(relu.activations[-1], Sigmoid)

    leaky = zoo.load("vae-leaky")
    assert isinstance(leaky.activations[0], LeakyReLU) and leaky.activations[0].slope in (0.1, 0.2)

    # paper 004's shape: two ReLU layers (batch norm folded), each at least doubling, then PLU
    aberdam = zoo.load("aberdam")
    assert aberdam.depth == 3
    assert all(isinstance(a, ReLU) for a in aberdam.activations[:2])
    assert aberdam.activations[-1] == PLU(alpha=0.1, c=1.0)
    assert all(e >= 2 for e in aberdam.expansion[:2])


@pytest.mark.parametrize("call", [zoo.path, zoo.card, zoo.load, lambda n: load_network(f"zoo:{n}")])
def test_unknown_name_suggests_the_closest(call) -> None:
    with pytest.raises(InvalidInput, match=r"unknown zoo net 'vae-rleu'; valid: .*did you mean 'vae-relu'\?"):
        call("vae-rleu")


def test_script_rejects_an_unknown_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--only", "aberdan", "--out", "unused"]) == 2
    assert "did you mean 'aberdam'?" in capsys.readouterr().err


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_net(tmp_path) -> None:
    """Training is deterministic on CPU (one thread, deterministic algorithms, pinned kernels).

    With the torch build, platform and CPU instruction sets the card names, the retrained net must
    be bit-identical (same fingerprint). Elsewhere MKL / oneDNN may round differently (the shipped
    card's CPU was not recorded; a Sapphire Rapids machine gives another fingerprint); then the
    losses must agree within the 0.005 nats the card states.
    """
    pytest.importorskip("torch")
    name = "vae-relu"
    env = {k: v for k, v in os.environ.items() if k not in train.PINNED_ENV}  # let the script pin
    subprocess.run(
        [sys.executable, "-m", "theorychk.zoo.train", "--only", name, "--out", str(tmp_path)],
        check=True, env=env, capture_output=True, timeout=600,
    )
    retrained = load_network(tmp_path / f"{name}.npz")
    shipped = card_table(name)
    again = parse_card((tmp_path / f"{name}.md").read_text(encoding="utf-8"))
    torch = pytest.importorskip("torch")

    assert again["cpu"] == train.cpu_isa() and again["torch"] == torch.__version__
    same_machine = (shipped["torch"], shipped["platform"], shipped["cpu"]) == (
        torch.__version__, platform.machine(), train.cpu_isa())
    if same_machine:
        assert retrained.fingerprint() == shipped["fingerprint"] == zoo.load(name).fingerprint()
        assert again["final loss"] == shipped["final loss"]
    else:
        assert float(again["final loss"]) == pytest.approx(float(shipped["final loss"]), abs=0.005)
        assert retrained.widths == zoo.load(name).widths

