"""A search's "Best trial" shows what a reader looks for before a training run's fingerprint (task "newuser")."""

from collections.abc import Mapping
from typing import Any

import nasbook
from nasbook import display
from nasbook.space import ChainSpace
from nasbook.tasks import Result, Task

#: what nasbook.training's RunFingerprint stores with every trained trial (ten fp_* metrics)
FINGERPRINT = {f"fp_{k}": 0.5 for k in ("loss_first", "loss_trend", "loss_peak", "loss_rises", "grad_median",
                                        "grad_max", "grad_trend", "grad_spread", "nonfinite", "steps")}


class TrainedLikeTask(Task):
    """Returns what a Lightning trial returns: losses, a fingerprint, held-out scores, size and FLOPs."""

    metric = "val_accuracy"
    mode = "max"

    def evaluate(self, arch, *, fidelity: Mapping[str, Any] | None = None, report=None, **kwargs: Any) -> Result:
        value = 1.0 / len(arch["layers"])
        return Result(value, metrics={"val_loss": 0.3, "val_accuracy": value, "train_loss": 0.5, **FINGERPRINT},
                      attrs={"test_loss": 0.35, "test_accuracy": 0.9, "n_params": 53570, "flops": 106240,
                             "epochs_run": 1, "train_time_s": 0.6, "device": "cpu", "stopped_early": False,
                             "seed": 0})


def test_best_trial_shows_held_out_scores_size_and_flops_before_the_fingerprint():
    space = ChainSpace(kind="mlp", max_depth=2)
    search = nasbook.Search(space, TrainedLikeTask(), strategy="random", budget=3, seed=0, storage=":memory:").run(progress="none")
    text = display.repr_mimebundle(search)["text/plain"]
    best = text.split("Best trial", 1)[1].split("Trials (", 1)[0]
    lines = [line.split()[0] for line in best.splitlines() if line.strip() and not line.strip().startswith("…")]
    for key in ("test_accuracy", "n_params", "flops", "val_loss"):
        assert key in lines, f"{key} is not shown in the best trial:\n{best}"
    shown_fp = [k for k in lines if k.startswith("fp_")]
    assert all(lines.index(k) > lines.index("flops") for k in shown_fp), best
    assert "val_accuracy" not in lines  # the value row says it already: "value 1 (val_accuracy)"
