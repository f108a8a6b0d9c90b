#!/usr/bin/env bash
# NeuralSAT (PyPI neuralsat 0.2.17) for bench_hardness.py --neuralsat VENV/bin/python, on the CPU.
#
#   bash benchmarks/install_neuralsat.sh [VENV]        # default VENV: /work/nsvenv
#
# A venv of its own, never the project's: neuralsat's requirements (torchvision, torchaudio,
# gurobipy, onnxsim, protobuf<6, torch>=2.9) would otherwise replace packages there. What this
# machine needs, and why:
#  * torch==2.13.0 first (the CPU wheel on this disk; a plain torch or a range admitting a newer
#    release pulls a multi-GB CUDA build), then everything under a torch==2.13.0 constraint;
#  * neuralsat itself --no-deps: its torchvision>=0.24 / torchaudio>=2.9 requirements cannot be met
#    with that torch here (PyPI torchvision 0.28.0 beside torch 2.13.0+cpu fails at import with
#    "RuntimeError: operator torchvision::nms does not exist"). It never imports torchaudio, and
#    imports torchvision only for the ONNX NonMaxSuppression operator, so a stub torchvision is
#    written that imports and refuses NMS;
#  * gurobipy from PyPI: its bundled size-limited licence (2000 variables / constraints) needs no
#    licence file; NeuralSAT uses Gurobi for MIP tightening / MIP verification and imports it
#    unconditionally.
set -euo pipefail
venv="${1:-/work/nsvenv}"
python3 -m venv "$venv"
pip="$venv/bin/pip"
constraints="$(mktemp)"
echo "torch==2.13.0" > "$constraints"
"$pip" install --quiet torch==2.13.0
"$pip" install --quiet -c "$constraints" --no-deps neuralsat==0.2.17
"$pip" install --quiet -c "$constraints" beartype coloredlogs gurobipy humanfriendly networkx numpy onnx onnxsim \
    onnxruntime packaging Pillow 'protobuf>=4.25.1,<6.0' psutil requests sortedcontainers sympy tqdm \
    typing_extensions termcolor joblib scipy
rm -f "$constraints"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$site/torchvision"
cat > "$site/torchvision/__init__.py" <<'EOF'
"""Stub torchvision for NeuralSAT 0.2.17 (theorychk benchmarks/install_neuralsat.sh).

NeuralSAT imports torchvision only in helper/network/onnx2pytorch/operations/nonmaxsuppression.py
(for the ONNX NonMaxSuppression op). PyPI's torchvision fails to import beside the CPU build of
torch 2.13.0 ("RuntimeError: operator torchvision::nms does not exist"), so this stub lets the
import succeed; a network that really uses NonMaxSuppression fails loudly.
"""
__version__ = "0.0.0+stub"


class _Ops:
    @staticmethod
    def nms(*args, **kwargs):
        raise NotImplementedError("torchvision stub: NonMaxSuppression is not available")


ops = _Ops()
EOF
"$venv/bin/python" "$site/src/main.py" --help > /dev/null
echo "NeuralSAT ready: python benchmarks/bench_hardness.py --neuralsat $venv/bin/python"
