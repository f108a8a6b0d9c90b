#!/usr/bin/env python3
"""Regenerate this benchmark folder byte for byte: python generate_properties.py <seed>

Needs theorychk installed. This folder is benchmark 'hardness-xxl', generated with seed 2026; another
seed draws other random formulas and graphs. Same as: theorychk benchmark hardness-xxl --out <this folder> --seed <seed>
"""

import sys
from pathlib import Path

from theorychk.reduction.benchmark import generate_benchmark

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python generate_properties.py <seed>")
    generate_benchmark('hardness-xxl', Path(__file__).resolve().parent, seed=int(sys.argv[1]))
