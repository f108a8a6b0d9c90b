"""``python -m theorychk``: the same command line as the ``theorychk`` script."""

from theorychk.cli import entry

if __name__ == "__main__":
    raise SystemExit(entry())
