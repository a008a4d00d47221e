"""Warm starts on NAS-Bench-Graph, leave one dataset out: do past searches on eight datasets make a
search on the ninth cheaper?

1. **Past searches**: on each of the nine datasets, one ``evolution`` and one ``random`` search of
   ``--past-budget`` evaluations (seed 1000), recorded in a SQLite store (``--store``; reused when it
   holds them already) and read back from it with ``nasbook.load_search``.
2. For each held-out dataset, from the past trials of the OTHER eight only (uniform task weights):
   the warm-start seeds (``knowledge.select_warm_start``, ``--n-warm`` architectures, diversified)
   and a transfer prior (``knowledge.TransferPrior``).
3. Per seed, on the held-out dataset, ``--budget`` evaluations each: cold and warm ``evolution`` and
   ``random`` (warm = ``Search(warm_start=seeds)``), then cold ``bo`` and warm ``bo`` (the seeds and
   ``BO(prior=TransferPrior)``) for the first ``--bo-seeds`` seeds (a bo run costs ~1 s per ask on a
   shared core); the naive transfer: the ``--n-warm`` architectures with the best mean rank over the
   other eight datasets' FULL tables (an oracle-ish baseline: it sees every architecture of the
   other tables, the warm start only the past searches).
4. Valid regret (pp below the table's best validation score) and the test score (%) of the returned
   architecture (best validation so far) after 10, 20, 50 and 100 evaluations.
5. The transfer-prior predictor: ``PriorPredictor(TransferPrior, task_weights="agreement")`` (the
   past tasks weighted by their Kendall tau with the 20 observed scores; ``prior_rf`` is section
   11w's fixed average) against the cold GRAF-style forest (``RandomForest()``, graph features), all
   fitted on 20 random architectures of the held-out dataset, Kendall tau on all the others
   (``prior_models`` lists the predictors; ``--prior-models`` picks some, ``--only prior`` runs this
   part alone, ``--first-seed 100`` probes away from the reporting seeds). ``--landmarks BY`` also fits
   them on 20 landmarks (``knowledge.select_landmarks(prior, 20, by=BY, seed=seed)``: chosen from what the
   past tasks predict, not at random), scored on the same held-out architectures minus the landmarks
   (columns ``LABEL@landmarks``; a different protocol from the goal's 20 random architectures).

Goals (issue 11): 10 warm evaluations reach cold evolution's 100-evaluation valid regret with a test
score at least as high on >= 8 of 9 datasets; warm evolution's valid regret after 50 evaluations <=
0.30 pp (mean over datasets); the prior predictor's tau at 20 >= 0.42.

Usage::

    python benchmarks/warmstart_nbg.py --json FILE [--seeds 10] [--datasets all] [--bo-seeds 2]
    python benchmarks/warmstart_nbg.py --only prior --prior-models cold_forest,prior_rf,prior_rf_agree --json FILE
    # the bo part alone on 10 seeds, cold bo read from a strategies_nbg.py JSON of the same seeds (not rerun)
    python benchmarks/warmstart_nbg.py --only bo --bo-seeds 10 --bo-variants warm-bo \
        --bo-cold-from bench-results/strategies_nbg.json --json FILE

``--only bo`` runs the bo part alone (``--bo-variants``, see ``_warm_bo.py``: ``bo``, ``warm-bo``,
``warm-bo-lm``, ``warm-bo-seeds-lm``, ``warm-bo-agree``) on seeds ``--first-seed`` .. and pairs every
variant with cold bo (or, with ``--bo-base``, another variant) per checkpoint.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np
from _common import format_table, mean_std, metadata, write_json
from _warm_bo import BO_VARIANTS, bo_setup, cold_from_json, merge_runs, paired

import nasbook
from nasbook.knowledge import TransferPrior, select_landmarks, select_warm_start
from nasbook.predictors import PriorPredictor, RandomForest, kendall_tau
from nasbook.tasks import NasBenchGraph
from nasbook.tasks._nbg import NBG_DATASETS, load_table

CHECKPOINTS = (10, 20, 50, 100)
PAST_SEED = 1000
PAST_STRATEGIES = ("evolution", "random")
METHODS = ("evolution", "random", "bo")
N_TRAIN = 20
#: the transfer-prior predictor the goal judges (a key of prior_models)
PRIOR_MODEL = "prior_rf_agree"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def fill_store(path: str, past_budget: int) -> list[str]:
    """The past searches, run into ``path`` unless it holds them already; their names."""
    names = []
    for d in NBG_DATASETS:
        for strat in PAST_STRATEGIES:
            name = f"past-{d}-{strat}"
            names.append(name)
            try:
                s = nasbook.load_search(name, path)
                if s.n_trials >= past_budget:
                    continue
            except Exception:  # noqa: BLE001 - not there yet (or no store): run it
                pass
            nasbook.Search(NasBenchGraph(d), strategy=strat, budget=past_budget, seed=PAST_SEED, storage=path,
                           name=name).run(progress="none")
    return names


def read_store(path: str, names: list[str]) -> Any:
    """Every past trial, read back from the store, as the table of past trials ``knowledge`` takes."""
    import pandas as pd

    rows = []
    for name in names:
        s = nasbook.load_search(name, path)
        for t in s.trials:
            rows.append({"task": s.task.name, "search": s.name, "strategy": s.strategy.alias,
                         "space_id": s.space.space_id, "arch_id": t.arch.id, "arch": t.arch.to_dict(),
                         "value": t.value if t.value is not None else math.nan, "mode": s.task.mode})
    return pd.DataFrame(rows)


def naive_transfer(held: str, n: int) -> list[Any]:
    """The ``n`` architectures of ``held``'s space with the best mean quantile over the other FULL tables."""
    from scipy.stats import rankdata

    space = NasBenchGraph(held).space
    keys = set(int(k) for k in space.keys)
    total: dict[int, float] = {}
    count: dict[int, int] = {}
    for d in NBG_DATASETS:
        if d == held:
            continue
        tab = load_table(d)
        q = (rankdata(tab.valid) - 0.5) / len(tab.valid)
        for k, v in zip(tab.keys.tolist(), q.tolist()):
            if k in keys:
                total[k] = total.get(k, 0.0) + v
                count[k] = count.get(k, 0) + 1
    best = sorted(total, key=lambda k: (-total[k] / count[k], k))[:n]
    return [space._from_key(k) for k in best]


def curve(task: NasBenchGraph, archs: list[Any], vmax: float) -> dict[str, dict[str, float]]:
    """Valid regret (pp) and test score (%) of the best-valid architecture after each checkpoint."""
    tab = task.table
    out: dict[str, dict[str, float]] = {}
    best_v, best_t = -math.inf, math.nan
    for i, a in enumerate(archs, 1):
        r = tab.row(int(a.id))
        v = tab.valid_l[r] if r >= 0 else -math.inf
        if v > best_v:
            best_v, best_t = v, tab.test_l[r]
        if i in CHECKPOINTS:
            out[str(i)] = {"regret_pp": 100.0 * (vmax - best_v), "test_pct": 100.0 * best_t}
    return out


def run_search(task: NasBenchGraph, strategy: Any, seed: int, budget: int, warm: Any = None) -> list[Any]:
    s = nasbook.Search(task, strategy=strategy, budget=budget, seed=seed, storage=":memory:", warm_start=warm)
    s.run(progress="none")
    return [t.arch for t in s.trials]


@functools.cache
def _truth(dataset: str) -> tuple[list[Any], np.ndarray]:
    task = NasBenchGraph(dataset)
    tab = task.table
    archs = task.space.enumerate(limit=10**6)
    return archs, np.array([tab.valid_l[tab.row(int(a.id))] for a in archs])


class CachedPrior:
    """A TransferPrior whose per-task predictions are computed once per architecture (the tau part
    predicts every architecture of the table for each model and seed)."""

    def __init__(self, prior: TransferPrior):
        self.prior = prior
        self._rows: dict[str, int] = {}
        self._values = np.zeros((0, len(prior.models)))

    def predict_tasks(self, archs: list[Any]) -> dict[str, np.ndarray]:
        todo = list({a.id: a for a in archs if a.id not in self._rows}.values())
        if todo:
            per = self.prior.predict_tasks(todo)
            new = np.stack([per[t] for t in self.prior.models], axis=1)
            self._rows.update((a.id, len(self._values) + i) for i, a in enumerate(todo))
            self._values = np.vstack([self._values, new])
        rows = np.array([self._rows[a.id] for a in archs], dtype=np.int64)
        return {t: self._values[rows, j] for j, t in enumerate(self.prior.models)}

    def predict(self, archs: list[Any]) -> np.ndarray:
        per = self.predict_tasks(archs)
        w = np.array([self.prior.weights[t] for t in per])
        return np.stack(list(per.values())).T @ w / w.sum()  # type: ignore[no-any-return]


class _Sharper(PriorPredictor):
    """Probe only: agreement weights raised to a power."""

    _power = 2.0


class _AboveChance(PriorPredictor):
    """Probe only: a task's agreement counts only above one null standard deviation of tau."""

    _null_sds = 1.0


class _AboveHalfChance(PriorPredictor):
    """Probe only: half a null standard deviation."""

    _null_sds = 0.5


def prior_models(prior: Any, seed: int) -> dict[str, Any]:
    """The predictors of the tau part: the cold forest, the transfer-prior predictor of section 11w
    (``prior_rf``: residual on the prior, random forest), and round 2's."""
    from nasbook.predictors import Ensemble, Predictor

    return {
        "cold_forest": RandomForest(seed=seed),
        "cold_default": Predictor(seed=seed),
        "prior_rf": PriorPredictor(prior, seed=seed),
        "prior_rf_agree": PriorPredictor(prior, task_weights="agreement", seed=seed),
        "prior_ens": PriorPredictor(prior, model=Ensemble(), seed=seed),
        "prior_ens_agree": PriorPredictor(prior, model=Ensemble(), task_weights="agreement", seed=seed),
        "prior_ens_agree_feature": PriorPredictor(prior, model=Ensemble(), task_weights="agreement", how="feature",
                                                  seed=seed),
        "prior_rf_agree2": _Sharper(prior, task_weights="agreement", seed=seed),
        "prior_rf_agree_s05": PriorPredictor(prior, task_weights="agreement", shrink=0.5, seed=seed),
        "prior_rf_agree_s8": PriorPredictor(prior, task_weights="agreement", shrink=8.0, seed=seed),
        "prior_gp_agree": PriorPredictor(prior, model="gp", task_weights="agreement", seed=seed),
        "prior_rf_agree_null1": _AboveChance(prior, task_weights="agreement", seed=seed),
        "prior_rf_agree_null05": _AboveHalfChance(prior, task_weights="agreement", seed=seed),
        # round 3 (section 11w-prior3): a smoother residual forest (leaves of 3), with or without
        # GRAF's per-depth op counts and link patterns
        "prior_rf3_agree": PriorPredictor(prior, model=RandomForest(min_samples_leaf=3), task_weights="agreement",
                                          seed=seed),
        "prior_rf3d_agree": PriorPredictor(prior, model=RandomForest(min_samples_leaf=3, drop=("level_count", "link_pattern")),
                                           task_weights="agreement", seed=seed),
    }


def tau_at_20(task: NasBenchGraph, prior: Any, seed: int, models: list[str] | None = None,
              n_test: int | None = None, landmarks: str | None = None) -> dict[str, float]:
    """Kendall tau of each predictor fitted on 20 random architectures of ``task`` (seed ``seed``),
    on the other architectures (all, or ``n_test`` random ones); with ``landmarks`` (a
    ``select_landmarks`` ``by``), also fitted on the 20 landmarks of that choice for the seed
    (``LABEL@landmarks``), scored on the same held-out architectures minus the landmarks."""
    space = task.space
    archs, y = _truth(task.dataset)
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(archs), N_TRAIN, replace=False)
    train = [archs[i] for i in idx]
    mask = np.ones(len(archs), dtype=bool)
    mask[idx] = False
    if n_test is not None and n_test < mask.sum():  # probes: a random subset of the held-out architectures
        mask[rng.choice(np.flatnonzero(mask), int(mask.sum()) - n_test, replace=False)] = False
    test = [a for a, m in zip(archs, mask) if m]
    out = {}
    for label, model in prior_models(prior, seed).items():
        if models is not None and label not in models:
            continue
        model.fit(train, y[idx], space=space)
        out[label] = kendall_tau(y[mask], model.predict_mean_std(test)[0])
        if label == PRIOR_MODEL:
            out["prior"] = out[label]
    out["prior_alone"] = kendall_tau(y[mask], prior.predict(test))
    if landmarks is not None:
        row = {a.id: i for i, a in enumerate(archs)}
        lm = np.array([row[a.id] for a in select_landmarks(prior, N_TRAIN, by=landmarks, candidates=archs, seed=seed,
                                                           space=space)], dtype=np.int64)
        lmask = mask.copy()
        lmask[lm] = False
        test = [a for a, m in zip(archs, lmask) if m]
        for label, model in prior_models(prior, seed).items():
            if models is not None and label not in models:
                continue
            model.fit([archs[i] for i in lm], y[lm], space=space)
            out[f"{label}@landmarks"] = kendall_tau(y[lmask], model.predict_mean_std(test)[0])
    return out


def summarise(raw: dict[str, Any], datasets: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for d in datasets:
        rd = raw[d]
        sd: dict[str, Any] = {}
        for method, runs in rd["runs"].items():
            if not runs:
                continue
            sd[method] = {c: {k: mean_std([r[c].get(k, math.nan) for r in runs]) for k in ("regret_pp", "test_pct")}
                          for c in runs[0]} | {"n_seeds": len(runs)}  # type: ignore[operator]
            for c in runs[0]:  # checkpoints a run does not store (cold bo read from strategies_nbg): left out
                for k in ("regret_pp", "test_pct"):
                    if any(k not in r.get(c, {}) for r in runs):
                        del sd[method][c][k]
        sd["tau"] = {k: mean_std([t[k] for t in rd["tau"]]) for k in rd["tau"][0]} if rd["tau"] else {}
        summary[d] = sd
    return summary


def goals(summary: dict[str, Any], datasets: list[str]) -> dict[str, Any]:
    hits, rows = 0, []
    for d in datasets:
        s = summary[d]
        if "evolution" not in s or "warm-evolution" not in s:
            continue
        last = str(max(int(c) for c in s["evolution"] if c.isdigit()))
        w10, c100 = s["warm-evolution"]["10"], s["evolution"][last]
        ok = w10["regret_pp"][0] <= c100["regret_pp"][0] and w10["test_pct"][0] >= c100["test_pct"][0]
        hits += ok
        rows.append((d, ok))
    w50 = [summary[d]["warm-evolution"]["50"]["regret_pp"][0] for d in datasets
           if "50" in summary[d].get("warm-evolution", {})]
    taus = [summary[d]["tau"]["prior"][0] for d in datasets if "prior" in summary[d]["tau"]]
    colds = [summary[d]["tau"]["cold_forest"][0] for d in datasets if "cold_forest" in summary[d]["tau"]]
    lms = [summary[d]["tau"][f"{PRIOR_MODEL}@landmarks"][0] for d in datasets
           if f"{PRIOR_MODEL}@landmarks" in summary[d]["tau"]]
    tau_means = {k: float(np.mean([summary[d]["tau"][k][0] for d in datasets]))
                 for k in (summary[datasets[0]]["tau"] if datasets else {})
                 if all(k in summary[d]["tau"] for d in datasets)}
    return {
        "warm10_reaches_cold_evolution100_on": hits, "n_datasets": len(datasets),
        "warm10_goal_met": hits >= math.ceil(8 * len(datasets) / 9),
        "per_dataset": dict(rows),
        "warm_evolution50_regret_pp_mean": float(np.mean(w50)) if w50 else math.nan,
        "warm50_goal_met": bool(w50) and float(np.mean(w50)) <= 0.30,
        "tau20_prior_mean": float(np.mean(taus)) if taus else math.nan,
        "tau20_cold_forest_mean": float(np.mean(colds)) if colds else math.nan,
        "tau_goal_met": bool(taus) and float(np.mean(taus)) >= 0.42,
        "tau20_prior_landmarks_mean": float(np.mean(lms)) if lms else math.nan,
        "tau20_means": tau_means,
        "prior_model": PRIOR_MODEL,
    }


def print_tables(summary: dict[str, Any], datasets: list[str], g: dict[str, Any]) -> None:
    methods = [m for m in ("naive", "evolution", "warm-evolution", "random", "warm-random", *BO_VARIANTS)
               if any(m in summary[d] for d in datasets)]
    for key, label in (("regret_pp", "valid regret (pp), mean over seeds"), ("test_pct", "test % of the returned architecture")):
        if not methods:
            break
        print(f"\n## {label}: method @ evaluations")
        headers = ["dataset"] + [f"{m}@{c}" for m in methods for c in CHECKPOINTS if m != "naive" or c == 10]
        rows = []
        for d in datasets:
            row: list[Any] = [d]
            for m in methods:
                for c in CHECKPOINTS:
                    if m == "naive" and c != 10:
                        continue
                    v = summary[d].get(m, {}).get(str(c))
                    row.append(f"{v[key][0]:.3f}" if v and key in v else "-")
            rows.append(row)
        mean_row: list[Any] = ["mean"]
        for j in range(1, len(headers)):
            vals = [float(r[j]) for r in rows if r[j] != "-"]
            mean_row.append(f"{np.mean(vals):.3f}" if len(vals) == len(rows) else "-")
        print(format_table(headers, rows + [mean_row]))
    if not any(summary[d]["tau"] for d in datasets):  # --only bo
        return
    print("\n## Kendall tau at 20 training architectures (all other architectures of the held-out table; "
          f"the prior predictor judged by the goal: {PRIOR_MODEL})")
    keys = [k for k in g["tau20_means"] if k != "prior"]
    rows = [[d, *(f"{summary[d]['tau'][k][0]:.3f} ± {summary[d]['tau'][k][1]:.3f}" for k in keys)]
            for d in datasets if summary[d]["tau"]]
    rows.append(["mean", *(f"{g['tau20_means'][k]:.3f}" for k in keys)])
    print(format_table(["dataset", *keys], rows))
    if not methods:  # --only prior: no searches, so no search goals
        print(f"\ntau@20 prior ({PRIOR_MODEL}) {g['tau20_prior_mean']:.3f} vs cold forest {g['tau20_cold_forest_mean']:.3f} "
              f"(goal >= 0.42: {'met' if g['tau_goal_met'] else 'MISSED'})")
        if math.isfinite(g["tau20_prior_landmarks_mean"]):
            print(f"tau@20 prior ({PRIOR_MODEL}) trained on 20 landmarks instead of 20 random architectures: "
                  f"{g['tau20_prior_landmarks_mean']:.3f} (a different protocol: the goal's figure is the one above)")
        return
    print(f"\nwarm@10 reaches cold evolution@100 (regret and test) on {g['warm10_reaches_cold_evolution100_on']} of "
          f"{g['n_datasets']} (goal >= 8 of 9: {'met' if g['warm10_goal_met'] else 'MISSED'}); warm evolution@50 "
          f"mean regret {g['warm_evolution50_regret_pp_mean']:.3f} pp (goal <= 0.30: "
          f"{'met' if g['warm50_goal_met'] else 'MISSED'}); tau@20 prior {g['tau20_prior_mean']:.3f} vs cold forest "
          f"{g['tau20_cold_forest_mean']:.3f} (goal >= 0.42: {'met' if g['tau_goal_met'] else 'MISSED'})")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", required=True)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--bo-seeds", type=int, default=2, help="seeds of the bo runs (the first ones)")
    ap.add_argument("--datasets", default="all")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--past-budget", type=int, default=150)
    ap.add_argument("--n-warm", type=int, default=10)
    ap.add_argument("--store", default=None, help="SQLite file of the past searches (default: a temporary one)")
    ap.add_argument("--bo-predictor-trees", type=int, default=50)
    ap.add_argument("--only", choices=("all", "prior", "bo"), default="all",
                    help="'prior': only the tau part (the predictors at 20 training architectures), no searches; "
                         "'bo': only the bo part (--bo-variants on --bo-seeds seeds)")
    ap.add_argument("--bo-variants", default="bo,warm-bo",
                    help=f"comma-separated bo variants of the bo part, of {','.join(BO_VARIANTS)} (default bo,warm-bo)")
    ap.add_argument("--bo-cold-from", default=None,
                    help="a strategies_nbg.py JSON (same seeds, budget 100): cold bo's valid regret at 10/50/100 and test "
                         "at 100 are read from it instead of rerunning bo (the same searches: BO() seeded by the seed)")
    ap.add_argument("--bo-merge", default=None,
                    help="comma-separated earlier warmstart_nbg.py JSONs of the same bo seeds and budget: the bo variants "
                         "they hold and --bo-variants leaves out are taken from them (the first file holding one), not rerun")
    ap.add_argument("--bo-base", default="bo", help="the bo variant the others are paired against (default bo)")
    ap.add_argument("--first-seed", type=int, default=0, help="seeds first-seed .. first-seed + seeds - 1 "
                    "(probes use 100 and above; the reporting seeds are 0..9)")
    ap.add_argument("--tau-test", type=int, default=None, help="probes: score on this many random held-out "
                    "architectures instead of all")
    ap.add_argument("--prior-models", default="cold_forest,prior_rf,prior_rf_agree",
                    help="comma-separated keys of prior_models() for the tau part, or 'all' (default: the cold "
                         "forest, section 11w's prior predictor and the reported one)")
    ap.add_argument("--landmarks", default=None, choices=("predictions", "encoding", "both", "disagreement"),
                    help="also fit the tau part's predictors on 20 landmarks (knowledge.select_landmarks with this "
                         "by=, seeded by the seed) instead of 20 random architectures (columns LABEL@landmarks)")
    args = ap.parse_args(argv)
    variants = [v for v in args.bo_variants.split(",") if v]
    bad = [v for v in variants if v not in BO_VARIANTS]
    if bad:
        ap.error(f"--bo-variants: unknown {bad}; choose from {', '.join(BO_VARIANTS)}")
    if args.bo_cold_from and "bo" in variants:
        ap.error("--bo-cold-from reads cold bo from a JSON: leave 'bo' out of --bo-variants")
    models = None if args.prior_models == "all" else args.prior_models.split(",")
    datasets = list(NBG_DATASETS) if args.datasets == "all" else args.datasets.split(",")
    meta = metadata(argv if argv is not None else sys.argv[1:])
    t0 = time.perf_counter()
    tmp = None
    store = args.store
    if store is None:
        tmp = tempfile.TemporaryDirectory()
        store = os.path.join(tmp.name, "past.db")
    names = fill_store(store, args.past_budget)
    past = read_store(store, names)
    log(f"past searches: {len(names)} searches, {len(past)} trials read back from {store}")
    raw: dict[str, Any] = {}
    cache: dict[str, Any] = {}
    for d in datasets:
        task = NasBenchGraph(d)
        vmax = float(np.max(task.table.valid))
        other = past[past["task"] != task.name]
        seeds = select_warm_start(other, task.space, args.n_warm)
        prior = TransferPrior(other, task.space, seed=0)
        rd: dict[str, Any] = {"seeds": [{"id": a.id, **p} for a, p in seeds],
                              "runs": {m: [] for m in ("naive", "evolution", "warm-evolution", "random", "warm-random",
                                                       *BO_VARIANTS)}, "tau": []}
        if args.only == "all":
            naive = naive_transfer(d, args.n_warm)
            rd["naive"] = [a.id for a in naive]
            rd["runs"]["naive"].append(curve(task, naive, vmax))
        cached = CachedPrior(prior)
        cache[d] = (seeds, prior, cached)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            if args.only == "bo":
                break
            if args.only == "all":
                for m in ("evolution", "random"):
                    rd["runs"][m].append(curve(task, run_search(task, m, seed, args.budget), vmax))
                    rd["runs"][f"warm-{m}"].append(curve(task, run_search(task, m, seed, args.budget, seeds), vmax))
            rd["tau"].append(tau_at_20(task, cached, seed, models, args.tau_test, args.landmarks))
            log(f"{d} seed {seed}: " + " ".join(f"{k} {v:.3f}" for k, v in rd["tau"][-1].items()))
        if args.only != "bo":
            log(f"{d}: evolution/random x {args.seeds} seeds and tau done ({time.perf_counter() - t0:.0f} s)")
        raw[d] = rd
    if args.only == "prior":
        return report(raw, datasets, args, meta, t0, len(past))
    if args.only == "all":
        report(raw, datasets, args, meta, t0, len(past))  # the cheap part, in case the bo part is cut short
    bo_seeds = list(range(args.first_seed, args.first_seed + min(args.bo_seeds, args.seeds)))
    if args.bo_cold_from:
        for d, runs in cold_from_json(args.bo_cold_from, datasets, bo_seeds, args.budget, CHECKPOINTS).items():
            raw[d]["runs"]["bo"] = runs
        log(f"cold bo: {len(bo_seeds)} seeds per dataset read from {args.bo_cold_from}")
    if args.bo_merge:
        merged = merge_runs(args.bo_merge.split(","), datasets, args.first_seed, len(bo_seeds), args.budget,
                            variants + (["bo"] if args.bo_cold_from else []))
        for d, by_variant in merged.items():
            raw[d]["runs"].update(by_variant)
        log(f"bo variants taken from {args.bo_merge}: {sorted({v for m in merged.values() for v in m})}")
    for d in datasets:  # bo last: the costly part
        task = NasBenchGraph(d)
        vmax = float(np.max(task.table.valid))
        seeds, prior, cached = cache[d]
        for seed in bo_seeds:
            for v in variants:  # interleaved within a seed, so machine noise spreads over the variants
                strategy, warm = bo_setup(v, args.bo_predictor_trees, prior, cached, seeds, seed, args.n_warm)
                raw[d]["runs"][v].append(curve(task, run_search(task, strategy, seed, args.budget, warm), vmax))
            log(f"{d}: bo seed {seed} done ({time.perf_counter() - t0:.0f} s)")
        if args.only == "bo":  # a partial report after each dataset
            report(raw, datasets[:datasets.index(d) + 1], args, meta, t0, len(past), quiet=True)
    result = report(raw, datasets, args, meta, t0, len(past))
    if tmp is not None:
        tmp.cleanup()
    return result


def report(raw: dict[str, Any], datasets: list[str], args: Any, meta: dict[str, Any], t0: float,
           n_past: int, quiet: bool = False) -> dict[str, Any]:
    summary = summarise(raw, datasets)
    g = goals(summary, datasets)
    bo_paired = {}
    if not quiet:
        print_tables(summary, datasets, g)
        bo_paired = paired(raw, datasets, args.bo_base, CHECKPOINTS)
    result = {"meta": meta, "args": vars(args), "wall_s": time.perf_counter() - t0, "past_trials": n_past,
              "summary": summary, "goals": g, "bo_paired": bo_paired, "raw": raw, "partial": quiet}
    write_json(args.json, result)
    sys.stdout.flush()
    return result


if __name__ == "__main__":
    main()
