"""Which real short Digits trainings does ``HealthCheck`` label diverged, and does it flag a healthy one?

A grid of 2-epoch ``Digits`` trainings (``ChainSpace(kind="mlp")`` architectures, Adam, learning rates from sane to
absurd, several seeds). Each run trains to the end with the health checks off, while a *shadow* ``HealthCheck``
(the imported nasbook's) sees every hook and records the first ``TrialDiverged`` it would have raised, so the same
run gives both the label and the whole curve. Run it on two trees to compare codes (``PYTHONPATH``).

Per learning rate: runs, labelled diverged, *blown up* (final epoch's mean training loss above 10 times the first
step's and above it plus 1, or not finite: what a user would call diverged), missed (blown up, not labelled) and
labelled although not blown up yet not healthy either (ended between the first step's loss and 10 times it, e.g.
back near chance after a blow-up), and falsely flagged (labelled although the final loss ended below the first
step's: must be 0).

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1
    nice python benchmarks/health_divergence_grid.py --json /tmp/health-grid.json [--quick]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table, metadata, write_json  # noqa: E402

LRS = (1e-3, 1e-1, 1.0, 10.0, 1e3)


def _shadow_class() -> Any:
    from nasbook._errors import TrialDiverged
    from nasbook.training import HealthCheck

    class Shadow(HealthCheck):  # type: ignore[misc]
        """A HealthCheck that records what it would raise instead of ending the run."""

        def __init__(self) -> None:
            super().__init__()
            self.first: str | None = None
            self.losses: list[float] = []

        def _guard(self, hook: Any, *args: Any) -> None:
            try:
                hook(*args)
            except TrialDiverged as exc:
                if self.first is None:
                    self.first = str(exc)

        def on_train_epoch_start(self, *a: Any) -> None:
            self._guard(super().on_train_epoch_start, *a)

        def on_before_backward(self, trainer: Any, module: Any, loss: Any) -> None:
            self.losses.append(float(loss.detach()))
            self._guard(super().on_before_backward, trainer, module, loss)

        def on_before_optimizer_step(self, *a: Any) -> None:
            self._guard(super().on_before_optimizer_step, *a)

        def on_train_epoch_end(self, *a: Any) -> None:
            self._guard(super().on_train_epoch_end, *a)

        def on_validation_epoch_end(self, *a: Any) -> None:
            self._guard(super().on_validation_epoch_end, *a)

    return Shadow


def run_one(task: Any, space: Any, arch: Any, lr: float, seed: int, epochs: int) -> dict[str, Any]:
    from nasbook.training import seeded, train

    info = task.data_info()
    with seeded(seed, 1):
        net = space.build(arch, info["input_shape"], info["n_classes"])
    shadow = _shadow_class()()
    out = train(net, task.datamodule, max_epochs=epochs, seed=seed, lr=lr, health=False, test=False,
                callbacks=[shadow])
    first = shadow.losses[0]
    final = out["curves"]["train_loss"][-1]
    blown = not math.isfinite(final) or (final > 10 * first and final > first + 1)
    return {"lr": lr, "seed": seed, "arch": arch.id, "first": first, "final": final, "blown": blown,
            "healthy": math.isfinite(final) and final < first, "flagged": shadow.first is not None,
            "why": shadow.first, "steps": len(shadow.losses), "head": shadow.losses[:6]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3, help="seeds per learning rate (default 3)")
    ap.add_argument("--archs", type=int, default=3, help="architectures per seed (default 3)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="1 seed, 1 architecture")
    ap.add_argument("--json", help="write every run and the table here")
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds, args.archs = 1, 1
    import warnings

    import numpy as np

    import nasbook
    from nasbook.space import ChainSpace
    from nasbook.tasks import Digits

    warnings.filterwarnings("ignore")
    space = ChainSpace(kind="mlp")
    task = Digits(max_epochs=args.epochs)
    archs = [space.sample(np.random.default_rng(100 + i)) for i in range(args.archs)]
    t0 = time.perf_counter()
    runs = [run_one(task, space, a, lr, seed, args.epochs)
            for lr in LRS for seed in range(args.seeds) for a in archs]
    rows = []
    for lr in LRS:
        r = [x for x in runs if x["lr"] == lr]
        rows.append([f"{lr:g}", len(r), sum(x["flagged"] for x in r), sum(x["blown"] for x in r),
                     sum(x["blown"] and not x["flagged"] for x in r),
                     sum(x["flagged"] and not x["blown"] and not x["healthy"] for x in r),
                     sum(x["healthy"] and x["flagged"] for x in r)])
    rows.append(["all", *[sum(int(row[i]) for row in rows) for i in range(1, 7)]])
    table = format_table(["lr", "runs", "labelled diverged", "blown up", "missed", "labelled, ended between",
                          "healthy flagged"], rows)
    print(f"# nasbook {nasbook.__file__}; {len(runs)} runs, {time.perf_counter() - t0:.0f} s")
    print(table)
    for x in runs:
        if x["blown"] and not x["flagged"] or x["healthy"] and x["flagged"]:
            print(f"  lr={x['lr']:g} seed={x['seed']} {x['arch']}: first {x['first']:.3g}, final {x['final']:.3g}, "
                  f"flagged={x['flagged']}")
    if args.json:
        write_json(args.json, {"meta": metadata(), "table": rows, "runs": runs})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
