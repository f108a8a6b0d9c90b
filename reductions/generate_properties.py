#!/usr/bin/env python3
"""Regenerate this benchmark folder: python generate_properties.py <seed>

Needs theorychk installed (pip install theorychk). This folder was generated with seed 2024; another
seed draws other random formulas. Same as: python -m theorychk.reduction.corpus <this folder> --seed <seed>
"""

import sys
from pathlib import Path

from theorychk.reduction.corpus import generate_corpus

if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: python generate_properties.py <seed>")
    generate_corpus(Path(__file__).resolve().parent, seed=int(sys.argv[1]))
