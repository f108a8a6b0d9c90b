"""The checker's own convolution matrices, built from a kernel and its recorded geometry.

The engines apply a convolutional layer through :mod:`theorychk.conv`'s sparse operator; the
checker does not trust that code. It reads the layer's stored kernel and geometry as data and
builds ``W`` itself, here, straight from the definition -- one kernel tap at a time, a
position at a time::

    Conv:           out[o, p, q]  += K[o, c, i, j] * in[g*Ci + c, p*sh - top + i*dh, q*sw - left + j*dw]
    ConvTranspose:  out[g*Co + o, p*sh - top + i*dh, q*sw - left + j*dw] += K[c, o, i, j] * in[c, p, q]

(``g`` the group of the channel, ``Ci``/``Co`` channels per group; feature maps flattened
``C x H x W`` in C order). Each entry of ``W`` is one kernel number -- no sums -- so the float64
matrix is exact, and the checker's exact kernel scales it to integers as it does a dense
weight. It also computes the output shape itself and compares the geometry with what the
certificate recorded (:func:`describe_layer`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from theorychk.errors import CertificateError

__all__ = ["layer_matrix", "describe_layer", "MATRIX_LIMIT"]

#: Most entries of a convolution's matrix the checker builds (the exact kernel works on it densely).
MATRIX_LIMIT = 2**22


def _out_size(size: int, k: int, stride: int, pad: int, dilation: int, out_pad: int, transposed: bool) -> int:
    span = dilation * (k - 1) + 1
    if transposed:
        return stride * (size - 1) + span - pad + out_pad
    return (size + pad - span) // stride + 1


def _geometry(layer: Any) -> dict[str, Any]:
    """The layer's convolution fields as plain data, with the output shape computed here."""
    conv = layer.conv
    k = np.asarray(conv.kernel, dtype=np.float64)
    c_in, h, w = (int(v) for v in conv.in_shape)
    (sh, sw), (dh, dw) = (int(v) for v in conv.stride), (int(v) for v in conv.dilation)
    top, left, bottom, right = (int(v) for v in conv.padding)
    oph, opw = (int(v) for v in conv.output_padding)
    groups, transposed = int(conv.groups), bool(conv.transposed)
    c_out = k.shape[1] * groups if transposed else k.shape[0]
    ho = _out_size(h, k.shape[2], sh, top + bottom, dh, oph, transposed)
    wo = _out_size(w, k.shape[3], sw, left + right, dw, opw, transposed)
    return {"kind": "conv_transpose" if transposed else "conv", "in_shape": [c_in, h, w],
            "out_shape": [c_out, ho, wo], "kernel_shape": list(k.shape), "stride": [sh, sw],
            "padding": [top, left, bottom, right], "output_padding": [oph, opw], "dilation": [dh, dw],
            "groups": groups}


def describe_layer(layer: Any) -> dict[str, Any]:
    """``{"kind": "linear"}`` or the convolution's geometry (the certificate's ``model.layers`` entry)."""
    return {"kind": "linear"} if layer.conv is None else _geometry(layer)


_BUILT: list[tuple[Any, np.ndarray]] = []  # the last few layers' matrices (a check reads each often)


def layer_matrix(layer: Any) -> np.ndarray:
    """``W`` of a layer as a dense float64 array: the stored weight, or for a convolution the
    checker's own matrix from its kernel and geometry (refused above :data:`MATRIX_LIMIT`)."""
    if layer.conv is None:
        return layer.weight
    for seen, mat in _BUILT:
        if seen is layer:
            return mat
    mat = _build(layer)
    _BUILT.insert(0, (layer, mat))
    del _BUILT[8:]
    return mat


def _build(layer: Any) -> np.ndarray:
    g = _geometry(layer)
    k = np.asarray(layer.conv.kernel, dtype=np.float64)
    c_in, h, w = g["in_shape"]
    c_out, ho, wo = g["out_shape"]
    n_in, n_out = c_in * h * w, c_out * ho * wo
    if n_in * n_out > MATRIX_LIMIT:
        raise CertificateError(f"convolutional layer {g['in_shape']} -> {g['out_shape']} has a {n_out} x {n_in} "
                               f"matrix, above the checker's limit of {MATRIX_LIMIT} entries")
    (sh, sw), (dh, dw) = g["stride"], g["dilation"]
    top, left = g["padding"][:2]
    groups = g["groups"]
    mat = np.zeros((n_out, n_in))
    transposed = g["kind"] == "conv_transpose"
    for a in range(k.shape[0]):
        for b in range(k.shape[1]):
            if transposed:  # a: input channel c, b: output channel o within the group
                c, o = a, (a // (c_in // groups)) * k.shape[1] + b
                grid_h, grid_w, far_h, far_w = h, w, ho, wo
            else:  # a: output channel o, b: input channel c within the group
                o, c = a, (a // (c_out // groups)) * k.shape[1] + b
                grid_h, grid_w, far_h, far_w = ho, wo, h, w
            for i in range(k.shape[2]):
                for j in range(k.shape[3]):
                    value = k[a, b, i, j]
                    for p in range(grid_h):
                        r = p * sh - top + i * dh
                        if not 0 <= r < far_h:
                            continue
                        for q in range(grid_w):
                            s = q * sw - left + j * dw
                            if not 0 <= s < far_w:
                                continue
                            if transposed:
                                mat[(o * ho + r) * wo + s, (c * h + p) * w + q] = value
                            else:
                                mat[(o * ho + p) * wo + q, (c * h + r) * w + s] = value
    mat.setflags(write=False)
    return mat
