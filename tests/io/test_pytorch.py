"""Tests of theorychk.io.pytorch: PyTorch state_dicts (zip and legacy format) into a Network."""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch import nn

from theorychk.errors import InvalidInput, MissingDependency
from theorychk.io import ModelSelection, load_network
from theorychk.io import pytorch as pytorch_io
from theorychk.network import Network

FORMATS = {"zip": True, "legacy": False}  # value: torch.save's _use_new_zipfile_serialization


class VAE(nn.Module):
    """The classic PyTorch VAE example (fc1 -> fc21/fc22 -> fc3 -> fc4), small."""

    def __init__(self, n_x: int = 12, n_h: int = 8, n_z: int = 3) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_x, n_h)
        self.fc21 = nn.Linear(n_h, n_z)
        self.fc22 = nn.Linear(n_h, n_z)
        self.fc3 = nn.Linear(n_z, n_h)
        self.fc4 = nn.Linear(n_h, n_x)

    def decode(self, z: torch.Tensor, act, final) -> torch.Tensor:
        return final(self.fc4(act(self.fc3(z))))


def save(obj: object, path: Path, fmt: str = "zip") -> Path:
    torch.save(obj, path, _use_new_zipfile_serialization=FORMATS[fmt])
    return path


def leaky(x: torch.Tensor) -> torch.Tensor:
    return nn.functional.leaky_relu(x, 0.1)


@pytest.fixture
def vae() -> VAE:
    torch.manual_seed(0)
    return VAE()


@pytest.fixture
def vae_file(tmp_path: Path, vae: VAE) -> Path:
    return save(vae.state_dict(), tmp_path / "vae.pt")


def bn_sequential(*, activation_first: bool = False) -> nn.Sequential:
    """Linear, BatchNorm1d, ReLU, Linear in eval mode, with running stats far from (0, 1)."""
    torch.manual_seed(1)
    bn = nn.BatchNorm1d(5)
    mods = [nn.Linear(3, 5), nn.ReLU(), bn] if activation_first else [nn.Linear(3, 5), bn, nn.ReLU()]
    model = nn.Sequential(*mods, nn.Linear(5, 2))
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([0.5, 2.0, -1.5, 1.0, 3.0]))
        bn.bias.copy_(torch.tensor([0.1, -0.4, 0.3, 1.0, -2.0]))
        bn.running_mean.copy_(torch.tensor([1.0, -2.0, 0.5, 3.0, -0.25]))
        bn.running_var.copy_(torch.tensor([0.25, 4.0, 0.01, 9.0, 1.5]))
    return model.eval()


# --------------------------------------------------------------------------------------------
# Forward passes agree with torch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("final_spec", "final_fn"), [(None, leaky), ("sigmoid", torch.sigmoid)], ids=["leaky", "sigmoid"]
)
def test_vae_decoder_matches_torch(tmp_path, vae, fmt, final_spec, final_fn):
    path = save(vae.state_dict(), tmp_path / "vae.pt", fmt)
    net = load_network(path, layers="fc3,fc4", activation="leaky_relu:0.1", final_activation=final_spec)

    assert net.widths == (3, 8, 12)
    assert [layer.dtype for layer in net.layers] == ["float32", "float32"]
    assert np.array_equal(net.layers[0].weight, vae.fc3.weight.detach().numpy())
    assert np.array_equal(net.layers[1].bias, vae.fc4.bias.detach().numpy())

    z = np.random.default_rng(7).standard_normal((64, 3))
    ours = net.forward(z)
    # The reference is torch evaluating the same float32 weights, widened exactly, in float64.
    ref64 = copy.deepcopy(vae).double()
    with torch.no_grad():
        ref = ref64.decode(torch.from_numpy(z), leaky, final_fn).numpy()
    # Both sides compute in float64 from identical numbers; they differ only in summation
    # order and in the sigmoid formula, ~1e-16 relative. Rounded to float32 they must then agree
    # to 1 ulp (equal unless a value lies within 1e-16 of a float32 rounding boundary).
    np.testing.assert_array_max_ulp(ours.astype(np.float32), ref.astype(np.float32), maxulp=1)


@pytest.mark.parametrize("fmt", FORMATS)
def test_batch_norm_folded_matches_torch_eval(tmp_path, fmt):
    model = bn_sequential()
    path = save(model.state_dict(), tmp_path / "bn.pth", fmt)
    net = load_network(path, layers="0+1,3", activation="relu", final_activation="identity")

    assert net.widths == (3, 5, 2)
    assert [layer.dtype for layer in net.layers] == ["float64", "float32"]  # folding makes new numbers
    z = np.random.default_rng(3).standard_normal((50, 3))
    ours = net.forward(z)
    with torch.no_grad():
        ref64 = copy.deepcopy(model).double()(torch.from_numpy(z)).numpy()
        ref32 = model(torch.from_numpy(z.astype(np.float32))).numpy()
    # Against torch in float64 only the folding's reassociation differs: a few float64 ulps
    # of values of size <= ~100 (gamma / sqrt(0.01 + eps) = 15 amplifies), so 1e-12 is generous.
    np.testing.assert_allclose(ours, ref64, rtol=0, atol=1e-12)
    # Against torch's float32 eval pass: float32 rounding, 2**-24 relative per operation, on
    # intermediates up to ~100, over ~10 operations per output: below 1e-4.
    np.testing.assert_allclose(ours, ref32, rtol=0, atol=1e-4)


def test_sequential_batch_norm_is_folded_automatically(tmp_path):
    path = save(bn_sequential().state_dict(), tmp_path / "bn.pt")
    auto = load_network(path, activation="relu", final_activation="identity")
    explicit = load_network(path, layers="0+1,3", activation="relu", final_activation="identity")
    assert auto == explicit


def test_batch_norm_without_affine_params_and_custom_eps(tmp_path):
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4, affine=False, eps=1e-3), nn.Linear(4, 1))
    with torch.no_grad():
        model[1].running_var.copy_(torch.tensor([0.5, 2.0, 0.001, 1.0]))
    model.eval()
    path = save(model.state_dict(), tmp_path / "bn.pt")
    sel = ModelSelection.build(activation="identity")
    net = pytorch_io.read(path, sel, bn_eps=1e-3)
    z = np.random.default_rng(0).standard_normal((10, 2))
    with torch.no_grad():
        ref = copy.deepcopy(model).double()(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(net.forward(z), ref, rtol=0, atol=1e-12)  # float64 on both sides


def test_checkpoint_dict_bias_free_layer_and_skipped_entries(tmp_path):
    torch.manual_seed(4)
    gen = nn.Sequential(nn.Linear(2, 3, bias=False), nn.ReLU(), nn.Linear(3, 4))
    state = gen.state_dict()
    state["version"] = 3  # a non-tensor entry inside the state_dict is skipped
    ckpt = {"epoch": 12, "model_state_dict": state, "optimizer": {"lr": 0.01}}
    net = load_network(save(ckpt, tmp_path / "ckpt.bin", "legacy"), activation="relu")
    assert net.widths == (2, 3, 4)
    assert not net.layers[0].has_bias and net.layers[1].has_bias
    assert np.array_equal(net.layers[0].weight, gen[0].weight.detach().numpy())
    assert net.name == "ckpt"


def test_bfloat16_is_read_as_the_same_float32_numbers(tmp_path):
    torch.manual_seed(5)
    state = {k: v.to(torch.bfloat16) for k, v in nn.Linear(3, 2).state_dict().items()}
    net = load_network(save(state, tmp_path / "bf.pt"), activation="relu")
    assert net.layers[0].dtype == "float32"
    assert np.array_equal(net.layers[0].weight, state["weight"].double().numpy())


# --------------------------------------------------------------------------------------------
# Bad input: each message pinned
# --------------------------------------------------------------------------------------------


def test_unknown_layer_lists_names_and_suggests(vae_file):
    pattern = (
        r"layer 'fc5' is not in vae\.pt; affine layers .*'fc1' \(8, 12\).*"
        r"'fc4' \(12, 8\); batch norms: none; did you mean 'fc4'\?"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(vae_file, layers="fc3,fc5", activation="relu")


def test_unknown_batch_norm_lists_batch_norms(tmp_path):
    path = save(bn_sequential().state_dict(), tmp_path / "bn.pt")
    with pytest.raises(InvalidInput, match=r"batch norm '2' is not in bn\.pt; .*batch norms: '1' \(5,\)"):
        load_network(path, layers="0+2,3", activation="relu")
    pattern = r"layer '1' in bn\.pt is a batch norm, not an affine layer; .*'0\+1'"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, layers="1,3", activation="relu")
    with pytest.raises(InvalidInput, match=r"layer '0\+1\+1' must be an affine layer name, optionally"):
        load_network(path, layers="0+1+1,3", activation="relu")


def test_no_activation_given(vae_file):
    pattern = r"vae\.pt carries no activations; pass activation \(e\.g\. --activation"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(vae_file, layers="fc3,fc4")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_file(tmp_path, vae, fmt):
    whole = save(vae.state_dict(), tmp_path / "whole.pt", fmt).read_bytes()
    path = tmp_path / "half.pt"
    path.write_bytes(whole[: len(whole) // 2])
    pattern = (
        rf"^model file {re.escape(str(path))} "
        r"(is not a readable PyTorch file; truncated or corrupt\? \(torch\.load raised \w+: [^\n]+\)"
        r"|is truncated or corrupt \(it refers to [^\n]+\))$"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, activation="relu")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fmt=st.sampled_from(sorted(FORMATS)), cut=st.floats(0, 1, exclude_max=True))
def test_every_prefix_of_a_file_is_a_one_line_invalid_input(tmp_path, fmt, cut):
    # Unpickling stops at whatever byte it reaches (EOFError, struct.error, IndexError, ...);
    # every one of those must come out as the one documented error.
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    whole = save(model.state_dict(), tmp_path / "whole.pt", fmt).read_bytes()
    path = tmp_path / "prefix.pt"
    path.write_bytes(whole[: int(cut * len(whole))])
    with pytest.raises(InvalidInput, match=r"^model file .*prefix\.pt [^\n]*(truncated or corrupt)[^\n]*$"):
        load_network(path, activation="relu")


def test_garbage_file(tmp_path):
    path = tmp_path / "junk.pt"
    path.write_bytes(b"definitely not a torch file")
    pattern = r"junk\.pt is not a readable PyTorch file; truncated or corrupt\?"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, activation="relu")


@pytest.mark.parametrize("fmt", FORMATS)
def test_whole_pickled_module(tmp_path, vae, fmt):
    path = save(vae, tmp_path / "vae.pt", fmt)
    pattern = (
        r"holds pickled Python objects \(it refers to \S*VAE\), not only tensors.*"
        r"whole model saved with torch\.save\(model, path\), save the weights alone with "
        r"torch\.save\(model\.state_dict\(\), path\)"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, activation="relu")
    path = save(bn_sequential(), tmp_path / "seq.pt", fmt)
    pattern = (
        r"holds a whole pickled nn\.Module \(torch\.nn\.modules\.container\."
        r"Sequential\).*torch\.save\(model\.state_dict\(\), path\)"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, activation="relu")


def test_torch_not_installed(monkeypatch, vae_file):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    pattern = r"needs torch; install it with pip install 'theorychk\[torch\]'"
    with pytest.raises(MissingDependency, match=pattern):
        load_network(vae_file, layers="fc3,fc4", activation="relu")


def test_widths_that_do_not_chain(vae_file):
    pattern = (
        r"the layer widths in vae\.pt do not chain: 'fc21' outputs 3 values but "
        r"'fc22' takes 8 \(.*'fc1' \(8, 12\), 'fc21' \(3, 8\).*'fc4' \(12, 8\)\); pass layers "
        r"\(--layers NAME,NAME,\.\.\.\)"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(vae_file, activation="relu")
    with pytest.raises(InvalidInput, match=r"do not chain: 'fc4' outputs 12 values but 'fc3' takes 3"):
        load_network(vae_file, layers="fc4,fc3", activation="relu")


def test_batch_norm_after_activation_is_not_folded_automatically(tmp_path):
    path = save(bn_sequential(activation_first=True).state_dict(), tmp_path / "bn.pt")
    pattern = (
        r"holds batch norm '2', and a state_dict does not show whether it acts "
        r"before or after an activation.*e\.g\. '0\+2'"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, activation="relu")


def test_named_batch_norm_is_not_folded_automatically(tmp_path):
    class Gen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.bn1, self.fc2 = nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Linear(3, 4)

    path = save(Gen().state_dict(), tmp_path / "gen.pt")
    with pytest.raises(InvalidInput, match=r"batch norm 'bn1'.*pass layers.*e\.g\. 'fc1\+bn1'"):
        load_network(path, activation="relu")
    assert load_network(path, layers="fc1+bn1,fc2", activation="relu").widths == (2, 3, 4)


def test_other_weighted_layers_stop_automatic_reading(tmp_path):
    model = nn.Sequential(nn.Linear(2, 3), nn.LayerNorm(3), nn.Linear(3, 4))
    path = save(model.state_dict(), tmp_path / "ln.pt")
    pattern = (
        r"weighted layers that are neither affine layers nor batch norms "
        r"\('1' \(3,\)\); theorychk reads fully connected generators"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, activation="relu")
    pattern = r"ln\.pt: state_dict entry '1\.weight': weight must be 2-D; got shape \(3,\)"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, layers="0,1", activation="relu")


def test_non_finite_entries_name_their_key(tmp_path, vae):
    state = vae.state_dict()
    state["fc4.bias"][5] = float("nan")
    path = save(state, tmp_path / "nan.pt")
    pattern = r"nan\.pt: state_dict entry 'fc4\.bias': bias must be finite; got nan at"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, layers="fc3,fc4", activation="relu")
    model = bn_sequential()
    bad = model.state_dict()
    bad["1.running_var"][2] = float("inf")
    path = save(bad, tmp_path / "inf.pt")
    pattern = r"state_dict entry '1\.running_var' must be finite; got inf at index 2"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(path, layers="0+1,3", activation="relu")


def test_not_a_state_dict(tmp_path):
    with pytest.raises(InvalidInput, match=r"holds a list, not a state_dict \(a dict of tensors\)"):
        load_network(save([torch.ones(2, 2)], tmp_path / "list.pt"), activation="relu")
    pattern = (
        r"holds a dict with no tensors.*checkpoint keys state_dict, "
        r"model_state_dict.*\(its keys: 'epoch', 'optim'\)"
    )
    with pytest.raises(InvalidInput, match=pattern):
        load_network(save({"epoch": 1, "optim": {"lr": 0.1}}, tmp_path / "ckpt.pt"), activation="relu")
    two = {"generator": nn.Linear(2, 3).state_dict(), "decoder": nn.Linear(2, 3).state_dict()}
    pattern = r"checkpoint holding several state_dicts \('generator', 'decoder'\)"
    with pytest.raises(InvalidInput, match=pattern):
        load_network(save(two, tmp_path / "two.pt"), activation="relu")


# --------------------------------------------------------------------------------------------
# Property: the numbers arrive bit for bit
# --------------------------------------------------------------------------------------------

_BITS = {np.float16: np.uint16, np.float32: np.uint32, np.float64: np.uint64}


@st.composite
def state_dicts(draw: st.DrawFn) -> tuple[dict[str, torch.Tensor], list[str]]:
    """A chain of 1-3 small affine layers with finite values of one dtype (subnormals, -0.0 too)."""
    dtype = draw(st.sampled_from([np.float16, np.float32, np.float64]))
    widths = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    elements = st.floats(width=np.dtype(dtype).itemsize * 8, allow_nan=False, allow_infinity=False)
    state, names = {}, []
    for i, (n_in, n_out) in enumerate(zip(widths, widths[1:])):
        name = f"net.{2 * i}"  # nn.Sequential-style, with an activation between layers
        state[f"{name}.weight"] = torch.from_numpy(draw(arrays(dtype, (n_out, n_in), elements=elements)))
        if draw(st.booleans()):
            state[f"{name}.bias"] = torch.from_numpy(draw(arrays(dtype, (n_out,), elements=elements)))
        names.append(name)
    return state, names


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=state_dicts(), fmt=st.sampled_from(sorted(FORMATS)), by_name=st.booleans())
def test_weights_arrive_bit_for_bit(tmp_path, drawn, fmt, by_name):
    state, names = drawn
    path = save(state, tmp_path / "prop.pt", fmt)
    net = load_network(path, layers=",".join(names) if by_name else None, activation="relu")
    assert isinstance(net, Network) and net.depth == len(names)
    for layer, name in zip(net.layers, names, strict=True):
        stored = state[f"{name}.weight"].numpy()
        assert layer.dtype == stored.dtype.name
        bits = _BITS[stored.dtype.type]
        assert np.array_equal(layer.weight.astype(stored.dtype).view(bits), stored.view(bits))
        assert layer.has_bias == (f"{name}.bias" in state)
        if layer.has_bias:
            stored_b = state[f"{name}.bias"].numpy()
            assert np.array_equal(layer.bias.astype(stored_b.dtype).view(bits), stored_b.view(bits))
