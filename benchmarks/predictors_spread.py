"""Predictions from scores with no spread, and BO on normal scores: two versions of nasbook side by side.

Each version runs the same measurements in its own process (``PYTHONPATH`` = that version's checkout)
and the parent prints them in one table, old beside new:

- **equal scores** (NAS-Bench-Graph cora, whose validation accuracies tie exactly in places): for each
  of ``--groups`` scores shared by 5 or more architectures, a model is fitted on 5 of them (all the
  same score) and predicts 500 other architectures drawn at random; the coverage of the central 68% and
  95% intervals, the mean negative log-likelihood, the share of std that are 0 or not finite, the
  NasbookWarnings the fit raised, and the ratio of the stds predicted for the same scores in percent
  (x100) and as given (a floor relative to the scores' units gives 100);
- **near-equal scores**: the same with 5 architectures of distinct scores within 0.002 of each other
  (a real spread, however small: the fit is the ordinary one in both versions);
- **one-epoch curves** (Digits table): LastValue's prediction of the final validation accuracy from
  the first epoch, coverage against the true final value and the share of std that are not finite;
- **BO regret on normal scores** (cora, ``strategy="bo"``, ``--budget`` trials, ``--seeds``): the
  final regret and whether the two versions proposed the same architectures, and a digest of
  ``Predictor(seed=0)``'s predictions after a fit on 100 architectures (equal digests: bit-identical).

Usage::

    mkdir -p bench-results/old_8bfe9fa && git archive 8bfe9fa nasbook | tar -x -C bench-results/old_8bfe9fa
    OMP_NUM_THREADS=1 python benchmarks/predictors_spread.py --old bench-results/old_8bfe9fa --seeds 0,1,2,3,4
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402 - the thread settings come first
import hashlib  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("Predictor()", "RandomForest()", "GaussianProcess()")


def _model(name: str) -> Any:
    from nasbook.predictors import GaussianProcess, Predictor, RandomForest

    return {"Predictor()": Predictor, "RandomForest()": RandomForest, "GaussianProcess()": GaussianProcess}[name](seed=0)


def _intervals(y: Any, mean: Any, std: Any) -> dict[str, float]:
    import numpy as np

    from nasbook.predictors import coverage, nll

    finite = np.isfinite(std)
    return {"cover68": coverage(y, mean, std, 0.68), "cover95": coverage(y, mean, std, 0.95),
            "nll": nll(y, mean, np.where(finite, std, 0.0)), "std0": float(np.mean(std == 0)),
            "nonfinite": float(np.mean(~finite))}


def _fit(name: str, archs: list[Any], scores: Any) -> tuple[Any, int]:
    from nasbook import NasbookWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _model(name).fit(archs, scores)
    return model, sum(issubclass(w.category, NasbookWarning) for w in caught)


def _fits(archs: list[Any], groups: list[list[int]], y: Any, others: Any) -> dict[str, Any]:
    """Each model fitted on each group's architectures, scored on ``others`` (mean over the groups)."""
    import numpy as np

    out: dict[str, Any] = {}
    for name in MODELS:
        rows = []
        for g in groups:
            model, n_warn = _fit(name, [archs[i] for i in g], y[g])
            mean, std = model.predict_mean_std([archs[i] for i in others])
            percent, _ = _fit(name, [archs[i] for i in g], 100 * y[g])
            ratio = float(np.median(percent.predict_mean_std([archs[i] for i in others])[1] / np.where(std > 0, std, np.nan)))
            rows.append({**_intervals(y[others], mean, std), "warnings": n_warn, "percent_ratio": ratio})
        out[name] = {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}
    return out


def worker(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    import nasbook
    from nasbook.predictors import LastValue, Predictor
    from nasbook.tasks import DigitsTable, NasBenchGraph

    t0 = time.perf_counter()
    task = NasBenchGraph("cora")
    archs = task.space.enumerate()
    y = task.ground_truth()["value"].to_numpy().astype(np.float64)
    rng = np.random.default_rng(0)
    values, counts = np.unique(y, return_counts=True)
    shared = values[counts >= 5]
    picked = shared[np.linspace(0, len(shared) - 1, args.groups).round().astype(int)]
    groups = [list(rng.choice(np.flatnonzero(y == v), 5, replace=False)) for v in picked]
    order = np.argsort(y, kind="stable")
    near = []
    for start in rng.permutation(len(y) - 5):
        window = order[start:start + 5]
        if len(np.unique(y[window])) == 5 and np.ptp(y[window]) <= 0.002:
            near.append(list(window))
        if len(near) == args.groups:
            break
    used = {i for g in groups + near for i in g}
    others = rng.choice([i for i in range(len(y)) if i not in used], 500, replace=False)
    res: dict[str, Any] = {"equal": _fits(archs, groups, y, others), "near": _fits(archs, near, y, others),
                           "equal_scores": [float(v) for v in picked]}

    digits = DigitsTable()
    curves = digits.curve()
    mean, std = LastValue().predict_arrays(curves[:, :1], digits.max_epochs)
    res["curve"] = _intervals(curves[:, -1], mean, std)

    opt = task.optimum()[1]
    res["bo"] = {}
    for seed in args.seeds:
        s = nasbook.Search(task, strategy="bo", budget=args.budget, seed=seed, storage=":memory:").run(progress="none")
        ids = [t.arch.id for t in s.trials]
        res["bo"][seed] = {"regret": opt - max(t.value for t in s.trials),
                           "ids": hashlib.sha256(" ".join(ids).encode()).hexdigest()[:12]}
    train = rng.choice(len(archs), 100, replace=False)
    model = Predictor(seed=0).fit([archs[i] for i in train], y[train])
    pred = model.predict_mean_std([archs[i] for i in others])
    res["normal_digest"] = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in pred)).hexdigest()[:16]
    res["seconds"] = time.perf_counter() - t0
    return res


def _run(root: Path, argv: list[str]) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", *argv], env=env, check=True,
                         capture_output=True, text=True, cwd=str(ROOT / "benchmarks"))
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="a checkout of the old version (a folder holding nasbook/)")
    parser.add_argument("--new", type=Path, default=ROOT, help="the new version (default: this checkout)")
    parser.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args)))
        return 0
    if args.old is None:
        parser.error("--old is required (see the usage in the module docstring)")
    passed = ["--seeds", ",".join(map(str, args.seeds)), "--budget", str(args.budget), "--groups", str(args.groups)]
    res = {"old": _run(args.old.resolve(), passed), "new": _run(args.new.resolve(), passed)}
    old, new = res["old"], res["new"]
    print(f"cora, {args.groups} groups of 5 training architectures, 500 others predicted; equal scores {old['equal_scores']}")
    cols = ("cover68", "cover95", "nll", "std0", "nonfinite", "warnings", "percent_ratio")
    print(f"{'scores':10} {'model':18} " + " ".join(f"{c:>21}" for c in cols))
    print(f"{'':10} {'':18} " + " ".join(f"{'old':>10} {'new':>10}" for _ in cols))
    for case in ("equal", "near"):
        for name in MODELS:
            cells = " ".join(f"{old[case][name][c]:10.4g} {new[case][name][c]:10.4g}" for c in cols)
            print(f"{case:10} {name:18} {cells}")
    print("\nDigits table, LastValue from epoch 1 to the last: " +
          ", ".join(f"{c} {old['curve'][c]:.3f} -> {new['curve'][c]:.3f}" for c in ("cover68", "cover95", "nonfinite")))
    print(f"\nBO on cora, budget {args.budget}: seed, final regret old / new (pp), same proposals")
    for seed in map(str, args.seeds):
        o, n = old["bo"][seed], new["bo"][seed]
        print(f"  {seed:>4} {100 * o['regret']:8.3f} {100 * n['regret']:8.3f}  {o['ids'] == n['ids']}")
    same = old["normal_digest"] == new["normal_digest"]
    print(f"Predictor(seed=0) on 100 cora architectures, 500 predicted: bit-identical {same} "
          f"({old['normal_digest']} / {new['normal_digest']})")
    print(f"seconds: old {old['seconds']:.0f}, new {new['seconds']:.0f}")
    if args.json:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from _common import metadata

        args.json.write_text(json.dumps({"meta": metadata(), "results": res}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
