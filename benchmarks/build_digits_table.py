"""Build the shipped Digits learning-curve table (``nasbook/_data/digits_cells.{npz,json}``).

A thin alias of ``build_curve_table.py --table digits`` (kept for the commands in
``docs/digits_table.md``): ``--n-archs`` distinct ``CellSpace()`` architectures, drawn uniformly
with a fixed seed, trained on ``Digits(max_epochs=--epochs, seed=s)`` for each training seed,
through nasbook's own loop (one :class:`nasbook.Search` per seed, a DaskExecutor, a SQLite store
per seed in ``bench-results/``). Every option of ``build_curve_table.py`` is accepted;
``--only-seed S`` and ``--from-db`` work as before.

Usage::

    python benchmarks/build_digits_table.py --n-archs 150 --seeds 2 --epochs 12 --workers 2 \\
        --out nasbook/_data/digits_cells
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_curve_table import FixedList, sample_archs  # noqa: E402
from build_curve_table import main as _main  # noqa: E402

__all__ = ["FixedList", "main", "sample_archs"]


def main(argv: list[str] | None = None) -> None:
    _main(["--table", "digits", *(sys.argv[1:] if argv is None else argv)], prog="benchmarks/build_digits_table.py")


if __name__ == "__main__":
    main()
