"""Train the zoo generators on scikit-learn's digits and write them with their model cards.

Run as a script::

    python -m theorychk.zoo.train [--out DIR] [--seed S] [--only NAME]

Without ``--out`` the nets are written into the ``theorychk/zoo`` package directory, replacing the
shipped files; pass ``--out /tmp/zoo`` to retrain elsewhere and compare fingerprints.

Every net is trained as a VAE (encoder + decoder, negative ELBO) and only the decoder is kept:
it is the generator ``G: R^k -> [0, 1]^64`` (or ``R^64`` for the PLU net). The nets of the
papers' MNIST size (``G: R^20 -> R^784``) are trained on the same digits upsampled to 28 x 28
(:func:`upsample`: ``scipy.ndimage.zoom(img, 3.5, order=1)``, clipped to [0, 1]); nothing is
downloaded. The exported numbers
are float32: the decoder's weights as trained, or, for a net with batch norm, the batch norm
folded into the preceding ``Linear`` in float64 (:func:`theorychk.network.fold_batch_norm`) and
then rounded once to float32. The saved ``.npz`` therefore *is* the net: every analysis sees the
float32 numbers stored, and :meth:`~theorychk.network.Network.fingerprint` names them.

Determinism. Each net starts from its own ``torch.manual_seed(seed)`` and
``numpy.random.default_rng(seed)`` (so ``--only`` and a full run give the same net), runs on one
thread with ``torch.use_deterministic_algorithms(True)``, and pins the CPU kernels that could
otherwise differ between machines: ``ATEN_CPU_CAPABILITY=default`` (PyTorch's vectorised kernels)
and ``MKL_CBWR=COMPATIBLE`` (MKL's conditional numerical reproducibility), both set before torch
is imported unless the caller set them. With the same torch build the fingerprint reproduces bit
for bit; another torch version may round differently.

PyTorch and scikit-learn are imported only when training, so importing this module (for
:data:`SPECS`) is cheap.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from theorychk.errors import InvalidInput, MissingDependency, unknown_name
from theorychk.network import Layer, LeakyReLU, Network, PLU, ReLU, Sigmoid, fold_batch_norm, parse_activation

__all__ = ["Spec", "SPECS", "TrainResult", "train", "main", "DEFAULT_SEED", "ZOO_DIR"]

ZOO_DIR = Path(__file__).resolve().parent
DEFAULT_SEED = 0
HELD_OUT = 297  # digits 1797 = 1500 training + 297 held-out images, split by the seeded rng
SIDE = 8  # scikit-learn's digits are 8 x 8
PIXELS = SIDE * SIDE
# Kernel pinning for cross-machine reproducibility (see the module docstring).
PINNED_ENV = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}

#: CPU flags that decide which vector kernels MKL and oneDNN pick even with the pins above: two
#: machines with the same torch build but different sets here may round differently.
_ISA_FLAG = ("avx", "amx", "fma", "sse4")


def cpu_isa() -> str:
    """The CPU's vector instruction sets, as the card records them (``"unknown"`` off Linux).

    The pins make torch's own kernels portable, but MKL and oneDNN still dispatch on the CPU:
    on a Sapphire Rapids machine (AMX, AVX-512 FP16) the pinned script retrains ``vae-relu`` to
    a different fingerprint than the shipped one, with a final loss 0.0008 nats apart.
    """
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return "unknown"
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = sorted({f for f in line.split(":", 1)[1].split() if f.startswith(_ISA_FLAG)})
            return " ".join(flags) if flags else "none"
    return "unknown"


@dataclass(frozen=True)
class Spec:
    """What one zoo net is and how it is trained.

    ``hidden`` are the decoder's hidden widths, latent side first; activations are theorychk
    specs (:func:`~theorychk.network.parse_activation`). ``likelihood`` is ``"bernoulli"``
    (binary cross-entropy on the sigmoid output, computed from the logits) or ``"gaussian"``
    (squared error over ``2 sigma**2``, constants dropped). ``side`` is the side of the images
    trained on: 8 for the digits as bundled, 28 for the digits upsampled to MNIST's size
    (:func:`upsample`), which makes the output width ``side**2``.
    """

    name: str
    summary: str
    latent: int
    hidden: tuple[int, ...]
    hidden_activation: str
    output_activation: str
    batch_norm: bool
    likelihood: str
    epochs: int
    encoder_hidden: int = 64
    batch_size: int = 50
    lr: float = 2e-3
    sigma: float = 0.0
    side: int = SIDE
    notes: str = ""
    #: ``(C, H, W)`` for a DCGAN-shaped decoder: ``Linear(latent -> C*H*W)``, the hidden
    #: activation, ``Unflatten`` to ``C x H x W``, then one ``ConvTranspose2d(k4, s2, p1)`` (which
    #: doubles H and W) per remaining layer, each hidden one followed by ``BatchNorm2d`` when
    #: ``batch_norm`` (the Linear then has none) and the hidden activation. ``hidden`` are the
    #: flattened widths, so the channels are ``hidden[i] / (H 2^i * W 2^i)``. ``None``: fully connected.
    unflatten: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        # the Bernoulli objective reads the decoder's logits, so the exported net must apply a sigmoid
        if self.likelihood == "bernoulli" and not isinstance(parse_activation(self.output_activation), Sigmoid):
            raise InvalidInput(f"{self.name}: a bernoulli likelihood needs a sigmoid output activation",
                               argument="output_activation", got=self.output_activation)
        if self.likelihood == "gaussian" and not self.sigma > 0:
            raise InvalidInput(f"{self.name}: a gaussian likelihood needs sigma > 0; got {self.sigma!r}",
                               argument="sigma", got=self.sigma)
        if self.likelihood not in ("bernoulli", "gaussian"):
            raise InvalidInput(f"{self.name}: likelihood must be 'bernoulli' or 'gaussian'; got {self.likelihood!r}",
                               argument="likelihood", got=self.likelihood)
        if self.side not in (SIDE, 28):
            raise InvalidInput(f"{self.name}: side must be {SIDE} (the digits) or 28 (upsampled); got {self.side!r}",
                               argument="side", got=self.side)
        if self.unflatten is not None:
            c, h, w = self.unflatten
            maps = [(h << i, w << i) for i in range(len(self.hidden) + 1)]
            if self.hidden[0] != c * h * w or maps[-1] != (self.side, self.side) or any(
                    width % (mh * mw) for width, (mh, mw) in zip(self.hidden, maps)):
                raise InvalidInput(f"{self.name}: hidden widths {self.hidden} do not fit Unflatten{self.unflatten} "
                                   f"followed by stride-2 transposed convolutions to {self.side}x{self.side}",
                                   argument="hidden", got=self.hidden)

    @property
    def pixels(self) -> int:
        return self.side * self.side

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.latent, *self.hidden, self.pixels)

    @property
    def channels(self) -> tuple[int, ...]:
        """Feature-map channels after each layer of a convolutional decoder (the last is 1)."""
        assert self.unflatten is not None
        _, h, w = self.unflatten
        return tuple(width // ((h << i) * (w << i)) for i, width in enumerate((*self.hidden, self.pixels)))

    @property
    def activations(self) -> tuple[str, ...]:
        acts = [parse_activation(self.hidden_activation).spec] * len(self.hidden)
        return (*acts, parse_activation(self.output_activation).spec)


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec(
            name="vae-relu",
            summary="ReLU VAE decoder 4-32-64 (sigmoid output), small enough for exact global analysis",
            latent=4,
            hidden=(32,),
            hidden_activation="relu",
            output_activation="sigmoid",
            batch_norm=False,
            likelihood="bernoulli",
            epochs=300,
            notes=(
                "The latent dimension is 4 so that exact global analysis (enumerating the "
                "activation regions of the 32 hidden ReLUs over R^4) stays tractable. The hidden "
                "layer expands 8x; the sigmoid output layer is invertible on (0, 1), so injectivity "
                "of G is decided by the ReLU layer together with the rank of the output weight "
                "restricted to each region."
            ),
        ),
        Spec(
            name="aberdam",
            summary="Paper 004's generator shape scaled to digits: 8-24-48-64, BN+ReLU hidden (folded), PLU output",
            latent=8,
            hidden=(24, 48),
            hidden_activation="relu",
            output_activation="plu:0.1:1",
            batch_norm=True,
            likelihood="gaussian",
            sigma=0.1,
            epochs=300,
            notes=(
                "Shaped like the MNIST generator of Aberdam, Simon & Elad (paper 004, Section 6): "
                "fully connected 20-128-392-784, the two hidden layers Linear + BatchNorm + ReLU, "
                "the last layer Linear + PLU (Nicolae, arXiv:1809.09534). Here the widths are "
                "scaled to 64 pixels as 8-24-48-64, keeping every ReLU layer at least doubling "
                "(expansions 3 and 2; the PLU layer 48 -> 64 is invertible and only needs a "
                "full-column-rank weight). PLU has alpha = 0.1, c = 1.\n\n"
                "**Difference from the paper.** The paper trains adversarially (a fully connected "
                "discriminator with spectral normalisation). A GAN is fragile, slow to tune and "
                "hard to make reproducible on a 2-core CPU, so this net is the decoder of a "
                "Gaussian VAE instead (reconstruction by squared error with sigma = 0.1, plus the "
                "KL term): it is still a generator from a N(0, I) latent through the same "
                "architecture, but its weights are not a GAN's, and numbers measured on it are not "
                "a reproduction of the paper's MNIST figures. Because the PLU output is unbounded, "
                "a Bernoulli likelihood does not apply; generated pixels can leave [0, 1].\n\n"
                "**Batch norm.** The decoder's Linear layers before each BatchNorm have no bias "
                "(BatchNorm's shift makes it redundant). At export, the BatchNorm in inference "
                "mode (running statistics accumulated during training, momentum 0.1, "
                "eps = 1e-5) is folded into the preceding Linear in float64 and the result rounded "
                "to float32."
            ),
        ),
        Spec(
            name="vae-leaky",
            summary="LeakyReLU(0.2) VAE decoder 6-32-64 (sigmoid output)",
            latent=6,
            hidden=(32,),
            hidden_activation="leaky_relu:0.2",
            output_activation="sigmoid",
            batch_norm=False,
            likelihood="bernoulli",
            epochs=300,
            notes=(
                "LeakyReLU with slope 0.2 is invertible (inverse Lipschitz 5), so G is injective "
                "as soon as the hidden weight (32 x 6) has full column rank and the sigmoid "
                "layer's weight is injective on the image; this is the setting of Lei et al.'s "
                "LeakyReLU variants of Algorithms 1-2 (paper 001).\n\n"
                "With 6 latent dimensions the VAE leaves some of them nearly unused (posterior "
                "collapse; see *active latents* and the singular values of W_0 below): the "
                "decoder keeps full column rank, but the inverse is ill-conditioned along those "
                "directions. This is kept on purpose, as trained VAEs do this; a KL warm-up "
                "(tried: 30 epochs) only revived one more dimension."
            ),
        ),
        Spec(
            name="vae784-relu",
            summary="ReLU VAE decoder 20-60-784 (ReLU output), the shape of Lei et al.'s MNIST generator, on digits upsampled to 28x28",
            latent=20,
            hidden=(60,),
            hidden_activation="relu",
            output_activation="relu",
            batch_norm=False,
            likelihood="gaussian",
            sigma=0.1,
            side=28,
            encoder_hidden=256,
            epochs=300,
            notes=(
                "Shaped like the MNIST generator of Lei, Jalal, Dhillon & Dimakis (paper 002, Section 5.2; "
                "paper 001, Section 5.2): fully connected, latent k = 20, one hidden layer of 60, output "
                "784 = 28 x 28, single channel. The papers write every layer as ReLU(W_i a + b_i) "
                "(equation (2) of both) and say nothing of a different output activation; the hidden "
                "width is small \"since the output usually only has around 70 to 100 non-zero "
                "pixels\" (paper 002), which only a ReLU output has. So both layers here are ReLU, "
                "the output included. That is also what the per-signal theory covers: a piecewise-linear "
                "output lets the last layer's activation pattern be read off the signal (pixel > 0 "
                "active, pixel = 0 inactive), which Lei's Theorem 2 and the polytope certificate need; "
                "a sigmoid or tanh output would be invertible but not piecewise linear.\n\n"
                "**Differences from the paper.** The paper trains a GAN on MNIST. This net is the "
                "decoder of a Gaussian VAE (squared error with sigma = 0.1 plus the KL term; a Bernoulli "
                "likelihood needs a sigmoid output) trained on scikit-learn's 8x8 digits upsampled "
                "bilinearly to 28x28, because nothing may be downloaded. The upsampled digits fill the "
                "frame and are blurred by the interpolation, so far more pixels are non-zero than in "
                "MNIST (about 609 of 784 per training image, against MNIST's ~150): expect a larger "
                "output support than the paper's 70 to 100 pixels (measured below). The output layer "
                "expands 60 -> 784 (13x), the hidden layer 20 -> 60 (3x)."
            ),
        ),
        Spec(
            name="vae784-leaky",
            summary="LeakyReLU(0.1) VAE decoder 20-200-500-784 (LeakyReLU(0.1) output too), on digits upsampled to 28x28",
            latent=20,
            hidden=(200, 500),
            hidden_activation="leaky_relu:0.1",
            output_activation="leaky_relu:0.1",
            batch_norm=False,
            likelihood="gaussian",
            sigma=0.1,
            side=28,
            encoder_hidden=256,
            epochs=100,
            notes=(
                "The decoder shape of issue 14's report (20 -> 200 -> 500 -> 784, LeakyReLU(0.1)) "
                "and of Lei et al.'s LeakyReLU setting (papers 001/002: every layer "
                "LeakyReLU(W_i a + b_i), slope c in (0, 1); Remark 1 of paper 001). LeakyReLU(0.1) is "
                "on every layer, the output included: then every layer is a bijection composed with "
                "an injective linear map as soon as each weight has full column rank, so G is "
                "injective and each signal has one preimage, recovered layer by layer by the inverse "
                "of LeakyReLU and least squares. The output stays piecewise linear, so the last "
                "layer's activation pattern is read off the signal's signs (pixel > 0 active, <= 0 inactive). "
                "Generated pixels can be negative (slope 0.1 below zero) and are not clipped to "
                "[0, 1].\n\n"
                "**Differences from the paper.** Lei et al. train a GAN on MNIST; this is the decoder "
                "of a Gaussian VAE (squared error with sigma = 0.1 plus the KL term) trained on "
                "scikit-learn's 8x8 digits upsampled bilinearly to 28x28 (nothing is downloaded). "
                "Trained for 100 epochs to stay within about 3 minutes on one (shared) CPU thread; with "
                "half a million decoder weights and 1500 training images it fits the training images "
                "better than held-out ones (see the losses below)."
            ),
        ),
        Spec(
            name="dcgan8",
            summary="DCGAN-shaped generator 4 -> Linear 16 -> 4x2x2 -> ConvT 4x4x4 -> ConvT 1x8x8 (ReLU hidden, PLU output)",
            latent=4,
            hidden=(16, 64),
            unflatten=(4, 2, 2),
            hidden_activation="relu",
            output_activation="plu:0.1:1",
            batch_norm=False,
            likelihood="gaussian",
            sigma=0.1,
            epochs=150,
            notes=(
                "A DCGAN-shaped decoder (Radford, Metz & Chintala 2016: a linear layer, a reshape, "
                "stride-2 transposed convolutions) scaled to 8 x 8: `Linear(4, 16)`, ReLU, "
                "`Unflatten(1, (4, 2, 2))`, `ConvTranspose2d(4, 4, 4, stride=2, padding=1)` (4x2x2 -> "
                "4x4x4), ReLU, `ConvTranspose2d(4, 1, 4, stride=2, padding=1)` (4x4x4 -> 1x8x8), PLU "
                "(alpha 0.1, c 1, the zoo's invertible piecewise-linear output, as `aberdam`). theorychk "
                "reads each transposed convolution as an exact sparse linear layer (`info` shows "
                "`conv_transpose`), so the net is `G: R^4 -> R^64` with widths 4-16-64-64.\n\n"
                "**Injectivity.** Both ReLU layers expand 4x (4 -> 16 -> 64); the output layer is square "
                "(64 -> 64) and PLU is a bijection, so G is injective exactly where the ReLU part is and "
                "the last weight is invertible. A transposed convolution is not a generic matrix (each "
                "output pixel sees at most 2 x 2 input positions per channel), so uniqueness of the "
                "latent of a signal is not implied by the widths: it is what `certify` decides per signal "
                "(`--claims polytope,complete`: 100 of 100 sampled latents unique, every certificate "
                "VERIFIED; benchmarks/results/conv.md). G is **not** injective on all of R^4: `certify`'s "
                "`network_injective` claim is REFUTED by two latents of the first layer (16 ReLUs on R^4) "
                "with the same output, far from the prior's mass (||z||_inf = 50). The widths were kept as "
                "DCGAN-scaled: uniqueness holds where the latents are sampled, not everywhere.\n\n"
                "**Difference from DCGAN.** DCGAN is trained adversarially with a tanh output; this "
                "decoder is trained as a Gaussian VAE (squared error with sigma = 0.1 plus the KL term), "
                "like `aberdam`, and its output is PLU so that the whole net stays piecewise linear."
            ),
        ),
        Spec(
            name="dcgan28",
            summary="DCGAN-shaped generator 8 -> Linear 196 -> 4x7x7 -> ConvT+BN 4x14x14 -> ConvT 1x28x28 (ReLU hidden, PLU output), on digits upsampled to 28x28",
            latent=8,
            hidden=(196, 784),
            unflatten=(4, 7, 7),
            hidden_activation="relu",
            output_activation="plu:0.1:1",
            batch_norm=True,
            likelihood="gaussian",
            sigma=0.1,
            side=28,
            encoder_hidden=128,
            epochs=60,
            notes=(
                "A DCGAN-shaped decoder at MNIST's size: `Linear(8, 196)`, ReLU, "
                "`Unflatten(1, (4, 7, 7))`, `ConvTranspose2d(4, 4, 4, stride=2, padding=1, bias=False)` "
                "(4x7x7 -> 4x14x14) + `BatchNorm2d(4)`, ReLU, `ConvTranspose2d(4, 1, 4, stride=2, "
                "padding=1)` (-> 1x28x28), PLU (alpha 0.1, c 1). Widths 8-196-784-784.\n\n"
                "**Batch norm.** As in DCGAN, the transposed convolution before the batch norm has no "
                "bias. At export the batch norm (running statistics, momentum 0.1, eps 1e-5) is folded "
                "into that convolution's kernel and bias per channel in float64 "
                "(`theorychk.io.torch_module.from_module`) and the result rounded once to float32.\n\n"
                "**Injectivity.** The ReLU layers expand 24.5x (8 -> 196) and 4x (196 -> 784); the "
                "output layer is square (784 -> 784) and PLU is a bijection. Whether a signal's latent "
                "is unique is decided per signal by `certify` (the convolution is not a generic "
                "matrix): 100 of 100 sampled latents unique with `--claims polytope,complete`, every "
                "certificate VERIFIED (benchmarks/results/conv.md). Global injectivity stays UNKNOWN: "
                "the output layer has full rank (CERTIFIED), the first layer's half-space-depth "
                "condition does not apply and the witness search on the convolution reaches the time "
                "limit.\n\n"
                "**Differences from DCGAN.** Trained as a Gaussian VAE on scikit-learn's digits upsampled "
                "bilinearly to 28x28 (nothing is downloaded), not as a GAN on MNIST; PLU instead of tanh "
                "output so that the net stays piecewise linear."
            ),
        ),
    )
}


@dataclass(frozen=True)
class TrainResult:
    """What training one net produced and measured (all losses per image, in nats)."""

    spec: Spec
    seed: int
    network: Network
    final_train_loss: float  # mean objective over the last epoch's minibatches (train mode)
    held_out_loss: float  # objective on the held-out images, eval mode, z = posterior mean
    held_out_recon_mse: float  # mean squared pixel error of the exported net, z = posterior mean
    export_max_abs_diff: float  # exported float32 net vs the torch decoder, same latents
    active_latents: int  # latent dimensions with mean KL > 0.01 nats on held-out images
    seconds: float  # wall time of the training loop
    cpu_seconds: float  # CPU time of this process in the training loop (less than seconds on a busy machine)
    env: dict[str, str]
    # ReLU / LeakyReLU output only (else None): output units with positive pre-activation on the
    # held-out posterior means, (mean per image, units never positive) -- the last layer's
    # activation pattern that per-signal uniqueness reads off the signal
    output_support: tuple[float, int] | None = None


# --------------------------------------------------------------------------------------------
# torch side (imported lazily)
# --------------------------------------------------------------------------------------------


def _import_torch() -> Any:
    for key, value in PINNED_ENV.items():
        os.environ.setdefault(key, value)
    try:
        import torch
    except ImportError:
        raise MissingDependency("training the zoo needs PyTorch: pip install 'theorychk[torch]'") from None
    capability = torch.backends.cpu.get_cpu_capability()
    if capability != "DEFAULT":
        # torch was imported before the pin could apply (or the caller chose otherwise): the
        # vectorised kernels round differently, so the shipped fingerprints will not reproduce.
        warnings.warn(
            f"PyTorch runs its {capability} CPU kernels, not the pinned default ones; the trained nets "
            f"will not match the shipped fingerprints (run `python -m theorychk.zoo.train` in a fresh process)",
            stacklevel=3,
        )
    return torch


def upsample(images: np.ndarray, side: int) -> np.ndarray:
    """8x8 images (rows of 64 pixels in [0, 1]) as ``side x side`` images, rows of ``side**2`` pixels.

    Bilinear (``scipy.ndimage.zoom(img, side / 8, order=1)``), then clipped to [0, 1] (linear
    interpolation cannot leave the range of its inputs, so the clip only guards rounding). For
    28 x 28 the digits get MNIST's size, not MNIST's look: the strokes stay as thick as 3.5 of
    the original pixels and the digits fill the frame (no 4-pixel margin).
    """
    if side == SIDE:
        return images
    from scipy.ndimage import zoom

    out = np.stack([zoom(img.reshape(SIDE, SIDE), side / SIDE, order=1) for img in images])
    if out.shape[1:] != (side, side):
        raise RuntimeError(f"zoom by {side / SIDE} gave {out.shape[1:]} images, not {side} x {side}")
    return np.clip(out, 0.0, 1.0).reshape(len(images), side * side)


def _load_digits(rng: np.random.Generator, side: int = SIDE) -> tuple[np.ndarray, np.ndarray]:
    """The 1797 digits as float32 pixels in [0, 1] (``side x side``), split into (train, held-out)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise MissingDependency("training the zoo needs scikit-learn: pip install scikit-learn") from None
    pixels = upsample(load_digits().data.astype(np.float64) / 16.0, side)  # stored as integers 0..16
    order = rng.permutation(len(pixels))
    return pixels[order[HELD_OUT:]].astype(np.float32), pixels[order[:HELD_OUT]].astype(np.float32)


def _torch_activation(torch: Any, spec: str) -> Any:
    act = parse_activation(spec)
    if isinstance(act, ReLU):
        return torch.relu
    if isinstance(act, LeakyReLU):
        return lambda x: torch.nn.functional.leaky_relu(x, act.slope)
    if isinstance(act, Sigmoid):
        return torch.sigmoid
    if isinstance(act, PLU):
        a, c = act.alpha, act.c
        return lambda x: torch.maximum(a * (x + c) - c, torch.minimum(a * (x - c) + c, x))
    raise NotImplementedError(f"no torch counterpart for activation {spec!r}")


def _build(torch: Any, spec: Spec) -> tuple[Any, Any]:
    nn = torch.nn

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.hidden = nn.Linear(spec.pixels, spec.encoder_hidden)
            self.out = nn.Linear(spec.encoder_hidden, 2 * spec.latent)

        def forward(self, x: Any) -> tuple[Any, Any]:
            mu, logvar = self.out(torch.relu(self.hidden(x))).chunk(2, dim=1)
            return mu, logvar

    if spec.unflatten is not None:
        return Encoder(), _conv_decoder(torch, spec)

    class Decoder(nn.Module):
        """Returns the last layer's *pre-activation* (logits for a sigmoid output)."""

        def __init__(self) -> None:
            super().__init__()
            widths = spec.widths
            n_hidden = len(spec.hidden)
            self.linears = nn.ModuleList(
                nn.Linear(widths[i], widths[i + 1], bias=not (spec.batch_norm and i < n_hidden))
                for i in range(len(widths) - 1)
            )
            self.norms = nn.ModuleList(nn.BatchNorm1d(w) for w in spec.hidden) if spec.batch_norm else None
            self.act = _torch_activation(torch, spec.hidden_activation)

        def forward(self, z: Any) -> Any:
            x = z
            for i, linear in enumerate(self.linears[:-1]):
                x = linear(x)
                if self.norms is not None:
                    x = self.norms[i](x)
                x = self.act(x)
            return self.linears[-1](x)

    return Encoder(), Decoder()


def _conv_decoder(torch: Any, spec: Spec) -> Any:
    """The DCGAN-shaped decoder of ``spec`` as an ``nn.Sequential`` ending in the last *pre-activation*
    (what :func:`theorychk.io.torch_module.from_module` reads; the output activation is applied apart)."""
    nn = torch.nn
    if parse_activation(spec.hidden_activation) != ReLU():
        raise NotImplementedError(f"{spec.name}: convolutional decoders are built with ReLU hidden layers")
    channels = spec.channels
    modules = [nn.Linear(spec.latent, spec.hidden[0]), nn.ReLU(), nn.Unflatten(1, spec.unflatten)]
    for i in range(1, len(channels)):
        hidden = i < len(channels) - 1
        modules.append(nn.ConvTranspose2d(channels[i - 1], channels[i], 4, stride=2, padding=1,
                                          bias=not (hidden and spec.batch_norm)))
        if hidden:
            if spec.batch_norm:
                modules.append(nn.BatchNorm2d(channels[i]))
            modules.append(nn.ReLU())
    modules.append(nn.Flatten())
    return nn.Sequential(*modules)


def _export_conv(spec: Spec, decoder: Any) -> Network:
    """A convolutional decoder as float32 numbers: read by ``from_module`` (batch norm folded in float64),
    the output activation set, every folded layer rounded once to float32."""
    from theorychk.conv import Conv
    from theorychk.io.torch_module import from_module

    read = from_module(decoder, latent_shape=(spec.latent,), name=spec.name)
    layers = []
    for layer, act in zip(read.layers, spec.activations, strict=True):
        if layer.conv is not None:
            weight: Any = Conv.from_geometry(layer.conv.kernel.astype(np.float32), layer.conv.geometry())
        else:
            weight = np.asarray(layer.weight, dtype=np.float32)
        layers.append(Layer(weight, np.asarray(layer.bias, dtype=np.float32), act))
    return Network(tuple(layers), name=spec.name)


def _objective(torch: Any, spec: Spec, out_act: Any, pre: Any, x: Any, mu: Any, logvar: Any) -> tuple[Any, Any]:
    """Negative ELBO per image, and the per-dimension KL (batch mean)."""
    F = torch.nn.functional
    if spec.likelihood == "bernoulli":
        recon = F.binary_cross_entropy_with_logits(pre, x, reduction="none").sum(dim=1)
    else:
        recon = ((out_act(pre) - x) ** 2).sum(dim=1) / (2.0 * spec.sigma**2)
    kl = 0.5 * (mu**2 + logvar.exp() - 1.0 - logvar)
    return (recon + kl.sum(dim=1)).mean(), kl.mean(dim=0)


def _export(torch: Any, spec: Spec, decoder: Any) -> Network:
    """The decoder as float32 numbers; batch norm folded in float64 first, then rounded once."""
    acts = spec.activations
    layers = []
    for i, linear in enumerate(decoder.linears):
        weight = linear.weight.detach().to(torch.float64).numpy()
        bias = None if linear.bias is None else linear.bias.detach().to(torch.float64).numpy()
        if decoder.norms is not None and i < len(decoder.norms):
            bn = decoder.norms[i]
            weight, bias = fold_batch_norm(
                weight,
                bias,
                gamma=bn.weight.detach().to(torch.float64).numpy(),
                beta=bn.bias.detach().to(torch.float64).numpy(),
                mean=bn.running_mean.detach().to(torch.float64).numpy(),
                var=bn.running_var.detach().to(torch.float64).numpy(),
                eps=bn.eps,
            )
        assert bias is not None  # every exported layer has a bias (folded or trained)
        layers.append(Layer(weight.astype(np.float32), bias.astype(np.float32), acts[i]))
    return Network(tuple(layers), name=spec.name)


def train(spec: Spec, *, seed: int = DEFAULT_SEED) -> TrainResult:
    """Train ``spec`` from ``seed`` and return the exported float32 decoder with its measurements."""
    torch = _import_torch()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    noise = torch.Generator().manual_seed(seed)  # the reparameterisation noise has its own stream

    train_x, held_x = _load_digits(rng, spec.side)
    encoder, decoder = _build(torch, spec)
    out_act = _torch_activation(torch, spec.output_activation)
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=spec.lr)
    data = torch.from_numpy(train_x)
    n_batches = len(train_x) // spec.batch_size  # full batches only: BatchNorm needs > 1 sample

    start, start_cpu = time.perf_counter(), time.process_time()
    encoder.train()
    decoder.train()
    for _ in range(spec.epochs):
        order = torch.from_numpy(rng.permutation(len(train_x)))
        epoch_loss = 0.0
        for b in range(n_batches):
            x = data[order[b * spec.batch_size : (b + 1) * spec.batch_size]]
            mu, logvar = encoder(x)
            z = mu + (0.5 * logvar).exp() * torch.randn(mu.shape, generator=noise)
            loss, _ = _objective(torch, spec, out_act, decoder(z), x, mu, logvar)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            epoch_loss += loss.item()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - start_cpu
    final_train_loss = epoch_loss / n_batches

    encoder.eval()
    decoder.eval()
    network = _export(torch, spec, decoder) if spec.unflatten is None else _export_conv(spec, decoder)
    with torch.no_grad():
        held = torch.from_numpy(held_x)
        mu, logvar = encoder(held)
        pre = decoder(mu)
        held_loss, kl_per_dim = _objective(torch, spec, out_act, pre, held, mu, logvar)
        torch_out = out_act(pre).to(torch.float64).numpy()
    ours = network.forward(mu.to(torch.float64).numpy())
    export_diff = float(np.max(np.abs(ours - torch_out)))
    output_support = None
    if isinstance(parse_activation(spec.output_activation), (ReLU, LeakyReLU)):
        positive = network.trace(mu.to(torch.float64).numpy())[0][-1] > 0
        output_support = (float(positive.sum(axis=1).mean()), int((~positive.any(axis=0)).sum()))
    # The exported net differs from the float32 torch decoder only by rounding (and, for
    # batch norm, by folding); a larger gap means the export is wrong, not the training.
    if export_diff > 1e-4:
        raise RuntimeError(f"{spec.name}: exported net differs from the torch decoder by {export_diff:.3g}")
    return TrainResult(
        spec=spec,
        seed=seed,
        network=network,
        final_train_loss=final_train_loss,
        held_out_loss=float(held_loss),
        held_out_recon_mse=float(np.mean((ours - held_x.astype(np.float64)) ** 2)),
        export_max_abs_diff=export_diff,
        active_latents=int((kl_per_dim > 0.01).sum()),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        output_support=output_support,
        env={
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scikit-learn": _sklearn_version(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpu": cpu_isa(),
            "cpu kernels": torch.backends.cpu.get_cpu_capability(),
            "MKL_CBWR": os.environ.get("MKL_CBWR", ""),
        },
    )


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


# --------------------------------------------------------------------------------------------
# model card
# --------------------------------------------------------------------------------------------


def _objective_text(spec: Spec) -> str:
    kl = "KL(q(z|x) || N(0, I))"
    if spec.likelihood == "bernoulli":
        return f"negative ELBO: binary cross-entropy summed over the {spec.pixels} pixels + {kl}, per image"
    return (
        f"negative ELBO with a Gaussian likelihood: squared error summed over the {spec.pixels} pixels / "
        f"(2 * {spec.sigma}^2) + {kl}, per image (constant dropped)"
    )


def _trained_as(spec: Spec, i: int, layer: Layer) -> str:
    folded = spec.batch_norm and i < len(spec.hidden) and (spec.unflatten is None or i > 0)
    if layer.conv is None:
        what = "Linear" + (f", then Unflatten to {'x'.join(map(str, spec.unflatten))}" if spec.unflatten and i == 0
                           else "")
    else:
        g = layer.conv
        what = (f"ConvTranspose2d k{g.kernel.shape[2]} s{g.stride[0]} p{g.padding[0]}, "
                f"{'x'.join(map(str, g.in_shape))} -> {'x'.join(map(str, g.out_shape))}")
    return what + (" + BatchNorm (folded)" if folded else "")


def render_card(result: TrainResult) -> str:
    """The model card (markdown) of a trained net; the key/value table is what tests parse."""
    spec, net = result.spec, result.network
    widths = "-".join(str(w) for w in net.widths)
    acts = ",".join(a.spec for a in net.activations)
    command = f"python -m theorychk.zoo.train --only {spec.name} --seed {result.seed}"
    layer_rows = "\n".join(
        f"| {i} | {layer.n_in} | {layer.n_out} | `{layer.activation.spec}` | {layer.dtype} | {_trained_as(spec, i, layer)} |"
        for i, layer in enumerate(net.layers)
    )
    env = result.env
    if spec.side == SIDE:
        data_row = "scikit-learn `load_digits` (8x8, 1797 images), pixels / 16 in [0, 1]"
        data_item = "1797 greyscale 8x8 images with integer pixels 0..16,\n  divided by 16"
    else:
        zoom = f"`scipy.ndimage.zoom(img, {spec.side / SIDE:g}, order=1)`, clipped to [0, 1]"
        data_row = (f"scikit-learn `load_digits` (8x8, 1797 images), pixels / 16 in [0, 1], upsampled to "
                    f"{spec.side}x{spec.side} ({zoom})")
        data_item = (f"1797 greyscale 8x8 images with integer pixels 0..16,\n  divided by 16, each upsampled to "
                     f"{spec.side}x{spec.side} pixels by {zoom}\n  (no download: MNIST's size, not MNIST's images)")
    pins_note = "" if spec.side == SIDE else "; measured on the 8x8 nets, not repeated for this one"
    losses_note = ("they agree within 0.005 nats" if spec.side == SIDE else
                   "for the 8x8 nets they agreed within 0.005 nats; not measured for this one")
    support = ""
    if result.output_support is not None:
        mean_on, never = result.output_support
        support = (
            f"* Output support (units with positive pre-activation, the last layer's activation pattern) on "
            f"the held-out\n  posterior means: {mean_on:.1f} of {spec.pixels} per image on average; {never} "
            f"{'unit is' if never == 1 else 'units are'} positive for none of them.\n"
        )
    if result.held_out_loss < result.final_train_loss:
        held_note = "lower than the final loss mostly because it has no\n  sampling noise"
    else:
        held_note = "higher than the final loss: the decoder fits its training images\n  better than unseen ones"
    sv = ", ".join(f"{v:.3g}" for v in np.linalg.svd(net.layers[0].weight, compute_uv=False))
    return f"""# {spec.name}

{spec.summary}.

| key | value |
|---|---|
| name | `{spec.name}` |
| widths | `{widths}` |
| activations | `{acts}` |
| parameters | {net.n_params} |
| dtype | float32 |
| fingerprint | `{net.fingerprint()}` |
| training data | {data_row}; {1797 - HELD_OUT} train / {HELD_OUT} held out |
| objective | {_objective_text(spec)} |
| training | full VAE (encoder {spec.pixels}-{spec.encoder_hidden}-{2 * spec.latent}, ReLU), Adam lr {spec.lr}, batch {spec.batch_size}, {spec.epochs} epochs |
| epochs | {spec.epochs} |
| seed | {result.seed} |
| final loss | {result.final_train_loss:.4f} |
| held-out loss | {result.held_out_loss:.4f} |
| held-out pixel MSE | {result.held_out_recon_mse:.6f} |
| active latents | {result.active_latents} of {spec.latent} |
| training time | {result.seconds:.1f} s (1 thread) |
| torch | {env["torch"]} |
| platform | {env["machine"]} |
| cpu | {env["cpu"]} |
| command | `{command}` |

## Architecture

The saved net is the VAE's decoder only, `G: R^{spec.latent} -> R^{spec.pixels}`, layers counted from the
latent side, weight shape `(n_out, n_in)`:

| layer | n_in | n_out | activation | dtype | trained as |
|---|---|---|---|---|---|
{layer_rows}

{spec.notes}

## Training

* Data: `sklearn.datasets.load_digits()`, {data_item}. A seeded permutation (`numpy.random.default_rng({result.seed})`) holds out
  {HELD_OUT} images; the other {1797 - HELD_OUT} are trained on, in full minibatches of {spec.batch_size}
  reshuffled every epoch.
* Model: encoder {spec.pixels} -> {spec.encoder_hidden} (ReLU) -> mean and log-variance of a
  {spec.latent}-dimensional Gaussian posterior; the decoder above; prior N(0, I).
* Objective: {_objective_text(spec)}. Reparameterised with one noise sample per image.
* Optimiser: Adam, learning rate {spec.lr}, {spec.epochs} epochs, PyTorch default initialisation.
* Determinism: `torch.manual_seed({result.seed})`, one thread, `torch.use_deterministic_algorithms(True)`,
  PyTorch CPU kernels `{env["cpu kernels"]}` (the script sets `ATEN_CPU_CAPABILITY=default` unless already set), `MKL_CBWR={env["MKL_CBWR"] or "(unset)"}`.
  Both pins matter: on the training machine each of the four on/off combinations gave a different
  fingerprint (final losses within 0.005 nats of each other){pins_note}.

## Measured

* **final loss** {result.final_train_loss:.4f} nats/image: the objective averaged over the last epoch's minibatches
  (train mode, sampled latents).
* **held-out loss** {result.held_out_loss:.4f} nats/image: the objective on the {HELD_OUT} held-out images in
  eval mode with the latent at the posterior mean ({held_note}).
* **held-out pixel MSE** {result.held_out_recon_mse:.6f}: the *exported* float32 net (evaluated by theorychk in
  float64) on the held-out posterior means, against the images.
* Export check: the exported net and the torch decoder agree to {result.export_max_abs_diff:.2e} (max abs) on those
  latents; the script refuses to write a net that differs by more than 1e-4.
* {result.active_latents} of {spec.latent} latent dimensions carry more than 0.01 nats of KL on held-out images.
{support}* Singular values of the first weight W_0 (float64 SVD of the stored numbers): {sv}.
* Training took {result.seconds:.1f} s of wall time ({result.cpu_seconds:.1f} s of CPU time).

## Export

Weights and biases are stored as float32 (`.npz`, theorychk schema {1 if spec.unflatten is None else
"2: each transposed convolution as its kernel and geometry, read back as an exact sparse operator"}); the net *is* these float32
numbers, which the fingerprint covers (`Network.fingerprint()`, sha256 over shapes, dtypes,
numbers and activations).

## Reproduce

```
{command}                  # writes into theorychk/zoo/
{command} --out /tmp/zoo   # elsewhere; compare the fingerprint
```

Trained with torch {env["torch"]}, numpy {env["numpy"]}, scikit-learn {env["scikit-learn"]},
Python {env["python"]} on {env["machine"]}. Run in a fresh process (the script pins the CPU kernels
before importing torch), the same torch build on a CPU with the same vector instruction sets (the
card's `cpu` row) reproduces the fingerprint bit for bit; another torch version, platform or CPU may
round differently (then compare the losses instead: {losses_note}).
"""


# --------------------------------------------------------------------------------------------
# command line
# --------------------------------------------------------------------------------------------


def write(result: TrainResult, out: Path) -> tuple[Path, Path]:
    from theorychk.io import save_network

    out.mkdir(parents=True, exist_ok=True)
    npz = save_network(result.network, out / f"{result.spec.name}.npz")
    card = out / f"{result.spec.name}.md"
    card.write_text(render_card(result), encoding="utf-8")
    return npz, card


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m theorychk.zoo.train",
        description="Train the theorychk zoo generators on scikit-learn digits and write .npz + model card.",
    )
    parser.add_argument("--out", type=Path, default=ZOO_DIR, help=f"output directory (default: {ZOO_DIR})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default: {DEFAULT_SEED})")
    parser.add_argument("--only", action="append", metavar="NAME", help=f"train only NAME (repeatable): {', '.join(SPECS)}")
    args = parser.parse_args(argv)
    names = args.only or list(SPECS)
    for name in names:
        if name not in SPECS:
            print(f"error: {unknown_name('zoo net', name, SPECS)}", file=sys.stderr)
            return 2
    for name in names:
        result = train(SPECS[name], seed=args.seed)
        npz, _ = write(result, args.out)
        print(
            f"{name}: widths {'-'.join(map(str, result.network.widths))}, final loss {result.final_train_loss:.4f}, "
            f"held-out {result.held_out_loss:.4f}, {result.seconds:.1f} s, "
            f"fingerprint {result.network.fingerprint()} -> {npz}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
