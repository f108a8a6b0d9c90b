"""Convolutions as exact linear operators.

A 2-D convolution (or transposed convolution) of a ``C x H x W`` feature map is a linear map
``R^{C*H*W} -> R^{C'*H'*W'}``; with the feature maps flattened in C order (channel, row,
column -- what ``torch.flatten`` and ``nn.Unflatten`` do) it is a matrix whose every nonzero
entry is one kernel entry. :class:`Conv` describes the geometry and holds the kernel;
:meth:`Conv.operator` builds that matrix as ``scipy.sparse`` CSR, equal to the convolution
entry for entry (no arithmetic is done on the kernel, so the entries are the stored numbers).

Geometry follows ``torch.nn.Conv2d`` / ``ConvTranspose2d`` and ONNX ``Conv`` /
``ConvTranspose``:

* Conv: ``kernel.shape == (C_out, C_in / groups, kH, kW)``;
  ``out[o, p, q] = sum_{c, i, j} K[o, c, i, j] * in[g*C_in/groups + c, p*s_h - pad_top + i*d_h,
  q*s_w - pad_left + j*d_w]`` with ``g = o // (C_out / groups)`` and out-of-range inputs zero.
* ConvTranspose: ``kernel.shape == (C_in, C_out / groups, kH, kW)``; the adjoint scatter
  ``out[g*C_out/groups + o, p*s_h - pad_top + i*d_h, q*s_w - pad_left + j*d_w] += K[c, o, i, j] *
  in[c, p, q]`` (``g = c // (C_in / groups)``), the output cropped to
  ``H' = s_h*(H-1) + d_h*(kH-1) + 1 - pad_top - pad_bottom + output_padding_h``.

Padding is ``(top, left, bottom, right)`` (ONNX's ``pads`` order is ``(top, left, bottom,
right)`` too); torch's symmetric ``padding=(ph, pw)`` is ``(ph, pw, ph, pw)``.

Examples
--------
>>> import numpy as np
>>> c = Conv(np.ones((1, 1, 2, 2)), in_shape=(1, 3, 3))
>>> c.out_shape, c.operator().shape, c.operator().nnz
((1, 2, 2), (4, 9), 16)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import scipy.sparse as sp

from theorychk.errors import InvalidInput

__all__ = ["Conv", "DENSE_LIMIT"]

#: The most entries (``n_out * n_in``) a dense view of a convolution may have (128 MiB of float64).
DENSE_LIMIT = 2**24


def _pair(value: Any, what: str, *, low: int) -> tuple[int, int]:
    vals = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(vals) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= low
                                 for v in vals):
        raise InvalidInput(f"conv {what} must be an int >= {low} or a pair of them; got {value!r}", argument=what,
                           got=value)
    return int(vals[0]), int(vals[1])


def _pads(value: Any) -> tuple[int, int, int, int]:
    if isinstance(value, (int, np.integer)):
        vals: tuple = (value,) * 4
    else:
        vals = tuple(value)
        if len(vals) == 2:
            vals = (vals[0], vals[1], vals[0], vals[1])
    if len(vals) != 4 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 0
                                 for v in vals):
        raise InvalidInput(f"conv padding must be an int >= 0, (pad_h, pad_w) or (top, left, bottom, right); "
                           f"got {value!r}", argument="padding", got=value)
    return tuple(int(v) for v in vals)  # type: ignore[return-value]


@dataclass(frozen=True, eq=False)
class Conv:
    """A 2-D convolution or transposed convolution with its kernel (no bias: the layer holds it).

    ``in_shape`` is ``(C, H, W)`` of the input feature map; :attr:`out_shape` follows from the
    geometry. ``kernel`` is widened exactly to a read-only float64 array; :attr:`dtype` says what
    it was stored as.
    """

    kernel: np.ndarray
    in_shape: tuple[int, int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int, int, int] = (0, 0, 0, 0)
    output_padding: tuple[int, int] = (0, 0)
    dilation: tuple[int, int] = (1, 1)
    groups: int = 1
    transposed: bool = False
    dtype: str = field(default="", compare=False)
    out_shape: tuple[int, int, int] = field(init=False)

    def __post_init__(self) -> None:
        from theorychk.network import _stored_array  # network imports this module at its top

        k, k_dtype = _stored_array(self.kernel, "conv kernel", 4, "kernel")
        shape = tuple(self.in_shape) if not isinstance(self.in_shape, (int, np.integer)) else ()
        if len(shape) != 3 or not all(isinstance(v, (int, np.integer)) and v >= 1 for v in shape):
            raise InvalidInput(f"conv in_shape must be (C, H, W) of positive ints; got {self.in_shape!r}",
                               argument="in_shape", got=self.in_shape)
        c_in, h, w = (int(v) for v in shape)
        stride = _pair(self.stride, "stride", low=1)
        dilation = _pair(self.dilation, "dilation", low=1)
        out_pad = _pair(self.output_padding, "output_padding", low=0)
        pads = _pads(self.padding)
        groups = self.groups
        if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
            raise InvalidInput(f"conv groups must be a positive int; got {groups!r}", argument="groups", got=groups)
        groups = int(groups)
        transposed = bool(self.transposed)
        if 0 in k.shape:
            raise InvalidInput(f"conv kernel must not be empty; got shape {k.shape}", argument="kernel", got=k.shape)
        kind = "ConvTranspose" if transposed else "Conv"
        if transposed:
            if k.shape[0] != c_in or c_in % groups:
                raise InvalidInput(f"{kind} kernel must have shape (C_in={c_in}, C_out/groups, kH, kW) with C_in "
                                   f"divisible by groups={groups}; got {k.shape}", argument="kernel", got=k.shape)
            c_out = k.shape[1] * groups
            if any(op >= max(s, d) for op, s, d in zip(out_pad, stride, dilation, strict=True)):
                raise InvalidInput(f"{kind} output_padding must be smaller than stride or dilation; got "
                                   f"{out_pad} with stride {stride}, dilation {dilation}",
                                   argument="output_padding", got=out_pad)
        else:
            if k.shape[1] * groups != c_in or k.shape[0] % groups:
                raise InvalidInput(f"{kind} kernel must have shape (C_out, C_in/groups={c_in}/{groups}, kH, kW) "
                                   f"with C_out divisible by groups; got {k.shape}", argument="kernel", got=k.shape)
            if out_pad != (0, 0):
                raise InvalidInput(f"Conv takes no output_padding; got {out_pad}", argument="output_padding",
                                   got=out_pad)
            c_out = k.shape[0]
        dims = []
        for axis, size in enumerate((h, w)):
            span = dilation[axis] * (k.shape[2 + axis] - 1) + 1
            pad = pads[axis] + pads[axis + 2]
            if transposed:
                n = stride[axis] * (size - 1) + span - pad + out_pad[axis]
            else:
                n = (size + pad - span) // stride[axis] + 1 if size + pad >= span else 0
            if n < 1:
                raise InvalidInput(f"{kind} on input {shape} with kernel {k.shape[2:]}, stride {stride}, padding "
                                   f"{pads}, dilation {dilation} has an empty output", argument="in_shape",
                                   got=shape)
            dims.append(int(n))
        dtype = self.dtype or k_dtype
        if dtype not in ("float16", "float32", "float64"):
            raise InvalidInput(f"dtype must be float16, float32 or float64; got {dtype!r}", argument="dtype",
                               got=dtype)
        for key, value in (("kernel", k), ("in_shape", (c_in, h, w)), ("stride", stride), ("padding", pads),
                           ("output_padding", out_pad), ("dilation", dilation), ("groups", groups),
                           ("transposed", transposed), ("dtype", dtype), ("out_shape", (c_out, *dims))):
            object.__setattr__(self, key, value)

    # ---- shapes --------------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return int(np.prod(self.in_shape))

    @property
    def n_out(self) -> int:
        return int(np.prod(self.out_shape))

    @property
    def kind(self) -> str:
        """``"conv"`` or ``"conv_transpose"``."""
        return "conv_transpose" if self.transposed else "conv"

    def geometry(self) -> dict[str, Any]:
        """Everything but the kernel, as JSON: what :meth:`from_geometry` reads back."""
        return {
            "kind": self.kind,
            "in_shape": list(self.in_shape),
            "out_shape": list(self.out_shape),
            "kernel_shape": list(self.kernel.shape),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "output_padding": list(self.output_padding),
            "dilation": list(self.dilation),
            "groups": self.groups,
        }

    @classmethod
    def from_geometry(cls, kernel: np.ndarray, geometry: dict[str, Any]) -> Conv:
        """The :class:`Conv` with ``kernel`` and :meth:`geometry`'s fields (``out_shape`` is checked)."""
        try:
            kind = geometry["kind"]
            if kind not in ("conv", "conv_transpose"):
                raise InvalidInput(f"conv kind must be 'conv' or 'conv_transpose'; got {kind!r}",
                                   argument="geometry.kind", got=kind)
            conv = cls(kernel, tuple(geometry["in_shape"]), stride=tuple(geometry["stride"]),
                       padding=tuple(geometry["padding"]), output_padding=tuple(geometry["output_padding"]),
                       dilation=tuple(geometry["dilation"]), groups=geometry["groups"],
                       transposed=kind == "conv_transpose")
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"conv geometry is missing or has a malformed field ({exc})",
                               argument="geometry", got=geometry) from None
        if "out_shape" in geometry and list(conv.out_shape) != list(geometry["out_shape"]):
            raise InvalidInput(f"conv geometry says out_shape {list(geometry['out_shape'])} but its fields give "
                               f"{list(conv.out_shape)}", argument="geometry.out_shape",
                               got=list(geometry["out_shape"]))
        return conv

    # ---- the operator --------------------------------------------------------------------
    def operator(self) -> sp.csr_matrix:
        """The exact ``(n_out, n_in)`` matrix as CSR (cached; read it, do not modify it)."""
        cached = self.__dict__.get("_operator")
        if cached is None:
            cached = self._build()
            object.__setattr__(self, "_operator", cached)
        return cached

    def dense(self, *, limit: int = DENSE_LIMIT) -> np.ndarray:
        """The operator as a dense read-only array; refused above ``limit`` entries."""
        if self.n_out * self.n_in > limit:
            raise InvalidInput(
                f"{self.kind} {self.in_shape} -> {self.out_shape} would be a dense {self.n_out} x {self.n_in} "
                f"matrix, above the dense limit of {limit} entries; this computation needs a dense matrix",
                argument="model", got=(self.n_out, self.n_in))
        cached = self.__dict__.get("_dense")
        if cached is None:
            cached = self.operator().toarray()
            cached.setflags(write=False)
            object.__setattr__(self, "_dense", cached)
        return cached

    def _build(self) -> sp.csr_matrix:
        import scipy.sparse as sp  # on first use: importing theorychk (and the checker) stays scipy-free

        k = self.kernel
        kh_n, kw_n = k.shape[2:]
        (sh, sw), (dh, dw) = self.stride, self.dilation
        top, left = self.padding[:2]
        g = self.groups
        rows, cols, vals = [], [], []
        # The side that is indexed by "position p" (Conv: the output, ConvTranspose: the input);
        # the other side sits at p*stride - pad + offset*dilation.
        if self.transposed:
            c_src, hp, wp = self.in_shape
            c_dst, hq, wq = self.out_shape
        else:
            c_dst, hp, wp = self.out_shape
            c_src, hq, wq = self.in_shape
        # Channel pairs: (channel on the p side, channel on the q side, kernel index pair).
        if self.transposed:
            cin, cog = k.shape[0], k.shape[1]
            ci = np.repeat(np.arange(cin), cog)
            co_local = np.tile(np.arange(cog), cin)
            p_chan, q_chan = ci, (ci // (cin // g)) * cog + co_local
            k_first, k_second = ci, co_local
        else:
            cout, cig = k.shape[0], k.shape[1]
            co = np.repeat(np.arange(cout), cig)
            ci_local = np.tile(np.arange(cig), cout)
            p_chan, q_chan = co, (co // (cout // g)) * cig + ci_local
            k_first, k_second = co, ci_local
        for i in range(kh_n):
            qh = np.arange(hp) * sh - top + i * dh
            ph_ok = np.flatnonzero((qh >= 0) & (qh < hq))
            for j in range(kw_n):
                qw = np.arange(wp) * sw - left + j * dw
                pw_ok = np.flatnonzero((qw >= 0) & (qw < wq))
                if not ph_ok.size or not pw_ok.size:
                    continue
                p_sp = (ph_ok[:, None] * wp + pw_ok[None, :]).reshape(-1)
                q_sp = (qh[ph_ok][:, None] * wq + qw[pw_ok][None, :]).reshape(-1)
                w = k[k_first, k_second, i, j]
                keep = w != 0
                if not keep.any():
                    continue
                pc, qc, w = p_chan[keep], q_chan[keep], w[keep]
                p_idx = (pc[:, None] * (hp * wp) + p_sp[None, :]).reshape(-1)
                q_idx = (qc[:, None] * (hq * wq) + q_sp[None, :]).reshape(-1)
                v = np.repeat(w, p_sp.size)
                if self.transposed:
                    rows.append(q_idx)
                    cols.append(p_idx)
                else:
                    rows.append(p_idx)
                    cols.append(q_idx)
                vals.append(v)
        shape = (self.n_out, self.n_in)
        if not rows:
            return sp.csr_matrix(shape, dtype=np.float64)
        # Each (row, col) pair has one kernel index (it is p*stride - pad + i*dilation solved for i),
        # so no entry is a sum: the matrix holds the kernel's numbers exactly.
        mat = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape)
        mat.sort_indices()
        return mat

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Conv):
            return NotImplemented
        return self.geometry() == other.geometry() and np.array_equal(self.kernel, other.kernel)

    __hash__ = None  # type: ignore[assignment]

    def scaled(self, scale: np.ndarray) -> Conv:
        """The same geometry with output channel ``o``'s kernel entries multiplied by ``scale[o]`` (float64).

        Used to fold a batch norm after the convolution (:func:`theorychk.network.fold_batch_norm`).
        """
        s = np.asarray(scale, dtype=np.float64)
        c_out = self.out_shape[0]
        if s.shape != (c_out,):
            raise InvalidInput(f"conv scale must have one entry per output channel ({c_out}); got shape {s.shape}",
                               argument="scale", got=s.shape)
        k = self.kernel.copy()
        if self.transposed:
            cog = k.shape[1]
            g_of_c = np.arange(k.shape[0]) // (k.shape[0] // self.groups)
            idx = g_of_c[:, None] * cog + np.arange(cog)[None, :]
            k = k * s[idx][:, :, None, None]
        else:
            k = k * s[:, None, None, None]
        return Conv(k, self.in_shape, stride=self.stride, padding=self.padding, output_padding=self.output_padding,
                    dilation=self.dilation, groups=self.groups, transposed=self.transposed, dtype="float64")
