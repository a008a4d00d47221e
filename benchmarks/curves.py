"""Learning-curve prediction and curve-based early stopping on curve tables (Digits, MNIST-1D).

**Part 1, prediction.** Every (architecture, training seed) run of a table is one curve of
``val_accuracy``. For each seed of the benchmark the architectures are split in halves: the
learned predictor is trained on the full curves of one half (with ``val_loss`` and
``train_loss`` as covariates; ``learned-objective`` without them), and every predictor predicts
the last epoch's value of the other half's runs from their first L epochs, L in {1, 2, 3,
12.5%, 25%, 50% of the epochs}. Score: Kendall tau between predicted and true final values (per
run), mean ± std over seeds, next to the last value and the pow3 fit in the same run; ms per
curve (the learned predictor's includes fitting its model for that prefix length).

**Part 2, early stopping.** ``nasbook.Search`` on the table (``seed="mean"`` curves), every method
drawing from ``RandomSearch(seed=seed)`` (the same proposals in the same order), equal
``Budget(epochs=--budget)`` for: full training, ``ASHA`` (min 1 epoch, eta 3),
``MedianStopping`` (min_trials 3) and ``CurveStopping`` with each predictor. Incumbent: the best
trial at the highest epoch count reached (pruned trials never are); its regret is the table's
best final value minus its architecture's final value, in percentage points. "Epochs to the full
run's best": epochs spent until the incumbent's final value is within 0.2 pp of what full
training had found at the end of the same seed's budget; median over seeds, a seed that never gets
there counted as beyond the budget, and "x fewer" the median per-seed ratio to full training.

Usage::

    python benchmarks/curves.py --json bench-results/curves.json --table digits mnist1d --seeds 10
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, mean_std, metadata, pm, write_json

import nasbook
from nasbook._errors import SpaceExhausted
from nasbook.predictors import LastValue, LearnedCurves, ParametricCurves, kendall_tau
from nasbook.search import Budget, TrialState
from nasbook.strategies import ASHA, BaseStrategy, CurveStopping, MedianStopping

PREDICTORS = ("last-value", "pow3", "parametric", "learned-objective", "learned", "learned-arch")
COVARIATES = ("val_loss", "train_loss")
STOP_METHODS = ("full", "asha", "median", "curve-learned", "curve-learned-arch", "curve-prior", "curve-parametric",
                "curve-last-value", "curve-prior-asha", "curve-prior-asha-ranked", "curve-prior-asha-blend")
WITHIN_PP = 0.2


def load_table(name: str) -> Any:
    """The table's task (``seed="mean"``), or None with a message when it is not importable yet."""
    import nasbook.tasks as tasks

    cls = {"digits": "DigitsTable", "mnist1d": "MNIST1DTable"}[name]
    task_cls = getattr(tasks, cls, None)
    if task_cls is None:
        print(f"## {name}: skipped: nasbook.tasks.{cls} is not importable in this checkout (not merged yet)\n")
        return None
    return task_cls(seed="mean")


def prefixes(n_epochs: int) -> dict[str, int]:
    out = {"1 ep": 1, "2 ep": 2, "3 ep": 3}
    for frac in (0.125, 0.25, 0.5):
        out[f"{frac * 100:g}%"] = max(1, int(round(frac * n_epochs)))
    return {k: v for k, v in out.items() if v < n_epochs}


def make_predictor(name: str) -> Any:
    return {"last-value": LastValue(), "pow3": ParametricCurves(families=("pow3",), bounds=(0.0, 1.0)),
            "parametric": ParametricCurves(bounds=(0.0, 1.0)), "learned": LearnedCurves(),
            "learned-objective": LearnedCurves(), "learned-arch": LearnedCurves()}[name]


def arch_features(task: Any) -> np.ndarray:
    """The ``graf`` encoding of every architecture of the table (row order), for ``learned-arch``."""
    space = task.table.space
    return np.asarray(space.encode_many(list(space.enumerate()), "graf"), dtype=np.float64)


def prediction_part(task: Any, seeds: range) -> dict[str, Any]:
    table = task.table
    n, s, e = table.curves["val_accuracy"].shape
    acc = table.curves["val_accuracy"].astype(np.float64)
    covs = {c: table.curves[c].astype(np.float64) for c in COVARIATES}
    pre = prefixes(e)
    graf = arch_features(task)
    taus: dict[str, dict[str, list[float]]] = {p: {k: [] for k in pre} for p in PREDICTORS}
    ms: dict[str, dict[str, list[float]]] = {p: {k: [] for k in pre} for p in PREDICTORS}
    for seed in seeds:
        perm = np.random.default_rng(seed).permutation(n)
        train, test = perm[: n // 2], perm[n // 2:]
        Ytr, Yte = acc[train].reshape(-1, e), acc[test].reshape(-1, e)
        Ctr = {c: v[train].reshape(-1, e) for c, v in covs.items()}
        Cte = {c: v[test].reshape(-1, e) for c, v in covs.items()}
        Ftr, Fte = np.repeat(graf[train], s, axis=0), np.repeat(graf[test], s, axis=0)  # rows are (arch, seed)
        truth = Yte[:, -1]
        for p in PREDICTORS:
            model = make_predictor(p)
            if p == "learned":
                model.fit(Ytr, Ctr)
            elif p == "learned-arch":
                model.fit(Ytr, Ctr, features=Ftr)
            elif p == "learned-objective":
                model.fit(Ytr)
            for label, L in pre.items():
                if L < model.min_length:
                    taus[p][label].append(math.nan)
                    ms[p][label].append(math.nan)
                    continue
                cov = {c: v[:, :L] for c, v in Cte.items()} if p in ("learned", "learned-arch") else None
                t0 = time.perf_counter()
                mean, _ = model.predict_arrays(Yte[:, :L], e, cov, Fte if p == "learned-arch" else None)
                ms[p][label].append(1000 * (time.perf_counter() - t0) / len(Yte))
                taus[p][label].append(kendall_tau(truth, mean))
    summary = {p: {k: {"tau": mean_std(taus[p][k]) if not math.isnan(taus[p][k][0]) else (math.nan, math.nan),
                       "ms_per_curve": mean_std(ms[p][k]) if not math.isnan(ms[p][k][0]) else (math.nan, math.nan)}
                   for k in pre} for p in PREDICTORS}
    return {"prefixes": pre, "summary": summary, "raw_tau": taus}


K, CONFIDENCE, MIN_CURVES, MIN_EPOCHS, PRIOR_QUANTILE = 3, 0.95, 10, 1, None
ETA = 3  # ASHA(eta=...) of the composed methods (curve-prior-asha*)


class SubsetRandom(BaseStrategy):
    """Uniform random proposals without replacement from the table rows ``rows`` (the search half)."""

    alias = "subset-random"

    def __init__(self, rows: tuple[int, ...] = (), seed: int | None = None):
        super().__init__(seed=seed)
        self.rows = rows

    def _setup(self) -> None:
        self.order_ = [int(i) for i in self.rng_.permutation(np.asarray(self.rows, dtype=int))]

    def _ask(self) -> Any:
        members = self.space_.members
        while self.order_:
            arch = members[self.order_.pop(0)]
            if self._is_new(arch):
                return arch
        raise SpaceExhausted(f"all {len(self.rows)} architectures of the search half were proposed")


def halves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(prior half, search half) of the table's rows for this seed: disjoint architectures."""
    perm = np.random.default_rng(10_000 + seed).permutation(n)
    return np.sort(perm[: n // 2]), np.sort(perm[n // 2:])


def fit_prior(task: Any, rows: np.ndarray, graf: np.ndarray) -> LearnedCurves:
    """``LearnedCurves`` fitted on the seed-mean curves of the prior half (objective, losses, ``graf``)."""
    acc = task.curve("val_accuracy")[rows]
    covs = {c: task.curve(c)[rows] for c in COVARIATES}
    return LearnedCurves(min_curves=MIN_CURVES).fit(acc, covs, features=graf[rows])


def make_strategy(method: str, max_epochs: int, seed: int, rows: np.ndarray, prior: LearnedCurves | None) -> Any:
    """Every method draws its architectures from ``SubsetRandom(search half, seed=seed)``: the same
    proposals in the same order (common random numbers), so methods differ only in what they do with them."""
    base = SubsetRandom(rows=tuple(int(i) for i in rows), seed=seed)
    if method == "full":
        return base
    if method == "asha":
        return ASHA(base=base, min_epochs=1, max_epochs=max_epochs, eta=3)
    if method == "median":
        return MedianStopping(base=base, min_epochs=1, min_trials=3)
    if method.startswith("curve-prior-asha"):  # the predictive rule on top of ASHA's rungs (composition);
        # "-ranked": the rungs rank by the predicted final value instead of the value reached so far
        # "-blend": by the prediction's rank blended with the value's, weighted from the prior's curves
        rank_by = {"ranked": "prediction", "blend": "blend"}.get(method.rsplit("-", 1)[-1], "value")
        base = ASHA(base=base, min_epochs=1, max_epochs=max_epochs, eta=ETA, rank_by=rank_by)
    pred = method.removeprefix("curve-").removesuffix("-ranked").removesuffix("-blend").removesuffix("-asha")
    predictor = {"learned": LearnedCurves(min_curves=MIN_CURVES), "learned-arch": LearnedCurves(min_curves=MIN_CURVES),
                 "prior": prior, "parametric": ParametricCurves(bounds=(0.0, 1.0)), "last-value": LastValue()}[pred]
    return CurveStopping(base=base, predictor=predictor, k=K, confidence=CONFIDENCE, max_epochs=max_epochs,
                         min_epochs=MIN_EPOCHS, fallback=ParametricCurves(bounds=(0.0, 1.0)),
                         features="graf" if pred in ("learned-arch", "prior") else None,
                         prior_quantile=PRIOR_QUANTILE if pred == "prior" else None)


def run_search(task: Any, method: str, seed: int, budget: int, final: np.ndarray, vmax: float, rows: np.ndarray,
               prior: LearnedCurves | None) -> dict[str, Any]:
    space = task.space
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        strategy = make_strategy(method, task.max_epochs, seed, rows, prior)
        search = nasbook.Search(task, strategy=strategy, budget=Budget(epochs=budget), seed=seed,
                                storage=":memory:").run(progress="none")
    wall = time.perf_counter() - t0
    spent, inc_e, inc_v, inc_row = 0, -1, -math.inf, -1
    curve: list[tuple[int, float]] = []  # (cumulative epochs, incumbent's true final value)
    for t in search.trials:
        spent += int(t.attrs.get("epochs_run", t.epochs or 0))
        if t.state is not TrialState.COMPLETE or t.value is None:
            continue
        e = int(t.epochs or 0)
        if e > inc_e or (e == inc_e and t.value > inc_v):
            inc_e, inc_v, inc_row = e, float(t.value), space.index(t.arch)
        curve.append((spent, float(final[inc_row])))
    # the eventual best: the best (true final) architecture this run proposed; wrongly stopped when
    # no trial of it reached max_epochs
    seen = {space.index(t.arch) for t in search.trials}
    best_row = max(seen, key=lambda i: final[i]) if seen else -1
    full_rows = {space.index(t.arch) for t in search.trials
                 if t.state is TrialState.COMPLETE and int(t.epochs or 0) >= task.max_epochs}
    return {"best_proposed_stopped": bool(best_row >= 0 and best_row not in full_rows),
            "best_proposed_regret_pp": 100 * (vmax - float(final[best_row])) if seen else math.nan,
            "n_stopped_by_prediction": sum(bool(t.attrs.get("stopped_by_prediction")) for t in search.trials),
            "method": method, "seed": seed, "epochs_spent": spent, "n_trials": len(search.trials),
            "n_pruned": sum(t.state is TrialState.PRUNED for t in search.trials),
            "final_regret_pp": 100 * (vmax - curve[-1][1]) if curve else math.nan, "curve": curve, "wall_s": wall,
            "ms_per_trial": 1000 * wall / max(1, len(search.trials))}


def epochs_to(curve: list[tuple[int, float]], target: float) -> float:
    for spent, v in curve:
        if v >= target - 1e-12:
            return float(spent)
    return math.nan


def calibration(task: Any, prior: LearnedCurves, rows: np.ndarray, graf: np.ndarray) -> dict[str, float]:
    """Share of the search half's true finals inside the prior's central 90% predictive interval, per prefix."""
    acc = task.curve("val_accuracy")[rows]
    covs = {c: task.curve(c)[rows] for c in COVARIATES}
    out = {}
    for L in (1, 2, 3):
        mean, std = prior.predict_arrays(acc[:, :L], acc.shape[1], {c: v[:, :L] for c, v in covs.items()}, graf[rows])
        out[f"{L} ep"] = float(np.mean(np.abs(acc[:, -1] - mean) <= 1.645 * std))
    return out


def stopping_part(task: Any, seeds: range, budget: int, methods: list[str]) -> dict[str, Any]:
    final = task.values()
    vmax = float(final.max())
    graf = arch_features(task)
    runs, cover = [], []
    for seed in seeds:
        prior_rows, rows = halves(len(final), seed)
        prior = fit_prior(task, prior_rows, graf)
        cover.append(calibration(task, prior, rows, graf))
        runs += [run_search(task, m, seed, budget, final, vmax, rows, prior) for m in methods]
    full_best = {r["seed"]: r["curve"][-1][1] for r in runs if r["method"] == "full"}
    summary: dict[str, Any] = {}
    for m in methods:
        rs = [r for r in runs if r["method"] == m]
        to = [epochs_to(r["curve"], full_best[r["seed"]] - WITHIN_PP / 100) for r in rs]
        censored = [x if not math.isnan(x) else math.inf for x in to]  # not reached within the budget: > budget
        reached = [x for x in to if not math.isnan(x)]
        ratio = [full_to / x for full_to, x in zip(
            [epochs_to(r["curve"], full_best[r["seed"]] - WITHIN_PP / 100) for r in runs if r["method"] == "full"], censored)]
        summary[m] = {"final_regret_pp": mean_std([r["final_regret_pp"] for r in rs]),
                      "epochs_to_full_best": mean_std(reached) if reached else (math.nan, math.nan), "n_reached": len(reached),
                      "median_epochs_to_full_best": float(np.median(censored)),
                      "median_x_fewer": float(np.median(ratio)),
                      "n_trials": mean_std([r["n_trials"] for r in rs]), "n_pruned": mean_std([r["n_pruned"] for r in rs]),
                      "best_proposed_stopped": sum(r["best_proposed_stopped"] for r in rs),
                      "epochs_spent": mean_std([r["epochs_spent"] for r in rs]),
                      "ms_per_trial": mean_std([r["ms_per_trial"] for r in rs])}
    coverage = {k: float(np.mean([c[k] for c in cover])) for k in cover[0]}
    return {"summary": summary, "runs": runs, "best_final": vmax, "prior_coverage_90": coverage}


def main(argv: list[str] | None = None) -> None:
    global K, CONFIDENCE, MIN_EPOCHS, PRIOR_QUANTILE, ETA  # noqa: PLW0603 - one run, one setting
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--table", nargs="+", default=["digits"], choices=["digits", "mnist1d"])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed+seeds-1 (probes: 100+)")
    p.add_argument("--budget-factor", type=int, default=30, help="epoch budget of each search = factor x the table's epochs")
    p.add_argument("--methods", default=",".join(STOP_METHODS))
    p.add_argument("--k", type=int, default=3, help="CurveStopping(k=...)")
    p.add_argument("--confidence", type=float, default=0.95, help="CurveStopping(confidence=...)")
    p.add_argument("--prior-quantile", type=float, default=None, help="CurveStopping(prior_quantile=...) of curve-prior")
    p.add_argument("--min-epochs", type=int, default=1, help="CurveStopping(min_epochs=...)")
    p.add_argument("--eta", type=int, default=ETA, help="ASHA(eta=...) under CurveStopping (curve-prior-asha*)")
    p.add_argument("--skip-prediction", action="store_true", help="only the early-stopping part")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    K, CONFIDENCE, MIN_EPOCHS, PRIOR_QUANTILE = args.k, args.confidence, args.min_epochs, args.prior_quantile
    ETA = args.eta
    meta = metadata(sys.argv if argv is None else ["benchmarks/curves.py", *argv])
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(STOP_METHODS))
    if unknown or "full" not in methods:
        raise SystemExit(f"--methods must include 'full' and come from {list(STOP_METHODS)}; got {methods}")
    print(f"{describe_machine(meta)}\n{describe_package(meta)}\n")
    out: dict[str, Any] = {"meta": meta, "config": {"seeds": args.seeds, "first_seed": args.first_seed, "budget_factor": args.budget_factor,
                                                    "methods": methods, "within_pp": WITHIN_PP,
                                                    "curve_stopping": {"k": K, "confidence": CONFIDENCE,
                                                                                          "min_epochs": MIN_EPOCHS,
                                                                                          "prior_quantile": PRIOR_QUANTILE,
                                                                                          "eta": ETA}},
           "tables": {}}
    for name in args.table:
        task = load_table(name)
        if task is None:
            out["tables"][name] = {"skipped": "not importable"}
            continue
        t0 = time.perf_counter()
        n, s, e = task.table.curves["val_accuracy"].shape
        budget = args.budget_factor * e
        print(f"## {name}: {n} architectures x {s} seeds x {e} epochs; epoch budget {budget}")
        import sklearn.linear_model  # noqa: F401 - imported before anything is timed

        pred = prediction_part(task, range(args.first_seed, args.first_seed + (1 if args.skip_prediction else args.seeds)))
        labels = list(pred["prefixes"])
        print(f"Kendall tau of predicted vs true final val_accuracy (per run, unseen half of the architectures), "
              f"mean ± std over {args.seeds} splits; prefix lengths {pred['prefixes']}")
        cell = lambda ms: "n/a" if math.isnan(ms[0]) else pm(*ms, 3)  # noqa: E731
        print(format_table(["predictor", *labels], [[pname, *[cell(pred["summary"][pname][k]["tau"]) for k in labels]]
                                                    for pname in PREDICTORS]))
        print("ms per curve: " + ", ".join(
            f"{pname} {np.nanmax([pred['summary'][pname][k]['ms_per_curve'][0] for k in labels]):.3f}" for pname in PREDICTORS))
        stop = stopping_part(task, range(args.first_seed, args.first_seed + args.seeds), budget, methods)
        print(f"\nEarly stopping at an equal budget of {budget} epochs, random proposals, {args.seeds} seeds "
              f"(best final in the table {100 * stop['best_final']:.2f}%)")
        print(format_table(
            ["method", "final regret pp", f"median epochs to full's best -{WITHIN_PP} pp", "reached",
             "median x fewer than full", "trials", "pruned", "best proposed stopped", "epochs spent", "ms/trial"],
            [[m, pm(*v["final_regret_pp"]), f"{v['median_epochs_to_full_best']:.0f}", f"{v['n_reached']}/{args.seeds}",
              f"{v['median_x_fewer']:.2f}", pm(*v["n_trials"], 1), pm(*v["n_pruned"], 1),
              f"{v['best_proposed_stopped']}/{args.seeds}", pm(*v["epochs_spent"], 0), f"{v['ms_per_trial'][0]:.1f}"]
             for m, v in stop["summary"].items()]))
        print("prior (LearnedCurves fitted on the other half's curves + graf): share of the search half's finals inside "
              "its central 90% interval: " + ", ".join(f"{k} {v:.2f}" for k, v in stop["prior_coverage_90"].items()))
        print(f"({name}: {time.perf_counter() - t0:.0f} s)\n")
        out["tables"][name] = {"shape": [n, s, e], "budget_epochs": budget, "prediction": pred, "stopping": stop}
    if args.json:
        write_json(args.json, out)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
