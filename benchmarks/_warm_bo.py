"""The bo part of ``warmstart_nbg.py``: cold and warm ``BO`` variants, cold bo read from a
``strategies_nbg.py`` JSON instead of rerun, and the paired comparison of each warm variant with
cold bo per checkpoint.

Variants (``--bo-variants``), all ``BO()``'s surrogate (a 50-tree uncalibrated forest on GRAF plus
the one-hot adjacency, ``--bo-predictor-trees`` trees):

* ``bo``: cold ``BO()``;
* ``warm-bo``: section 11w's warm bo, the warm-start seeds (``Search(warm_start=seeds)``) and
  ``BO(prior=TransferPrior)`` (the past tasks averaged with fixed, uniform weights);
* ``warm-bo-lm``: the transfer prior's landmarks (``TransferPrior.landmarks(n_warm, seed=seed)``,
  k-means over the past tasks' predictions) as the first proposals instead of the seeds, same prior;
* ``warm-bo-seeds-lm``: the seeds, then the ``n_warm`` landmarks not among them, same prior;
* ``warm-bo-agree``: the seeds and a surrogate ``PriorPredictor(prior, task_weights="agreement")``
  over the same forest (the past tasks weighted by their Kendall tau with the scores told).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from _common import format_table

from nasbook.predictors import PriorPredictor, RandomForest
from nasbook.strategies import BO

BO_VARIANTS = ("bo", "warm-bo", "warm-bo-lm", "warm-bo-seeds-lm", "warm-bo-agree")


def _forest(trees: int) -> RandomForest:
    return RandomForest(n_estimators=trees, calibration="none", features=("graf", "adjacency"))


class _AgreementBO(BO):
    """Probe only: a BO whose surrogate is a PriorPredictor over a prior of the benchmark's own (stored as
    its repr, as BO stores a prior of its own: the search's config must be JSON)."""

    def to_config(self) -> dict[str, Any]:
        cfg = super().to_config()
        cfg["params"]["predictor"]["params"]["prior"] = {"unstored_prior": repr(getattr(self.predictor, "prior", None))[:200]}
        return cfg


def bo_setup(variant: str, trees: int, prior: Any, cached_prior: Any, seeds: list[Any], seed: int,
             n_warm: int) -> tuple[BO, list[Any] | None]:
    """The strategy and the warm start (None: cold) of ``variant`` for one search seeded ``seed``."""
    if variant == "bo":
        return BO(predictor=_forest(trees)), None
    if variant == "warm-bo":
        return BO(predictor=_forest(trees), prior=prior), seeds
    if variant in ("warm-bo-lm", "warm-bo-seeds-lm"):
        lm = prior.landmarks(n_warm, seed=seed)
        if variant == "warm-bo-lm":
            return BO(predictor=_forest(trees), prior=prior), lm
        ids = {a.id for a, _ in seeds}
        return BO(predictor=_forest(trees), prior=prior), [a for a, _ in seeds] + [a for a in lm if a.id not in ids]
    if variant == "warm-bo-agree":
        surrogate = PriorPredictor(cached_prior, model=_forest(trees), task_weights="agreement",
                                   features=("graf", "adjacency"), target="rank", calibration="none")
        return _AgreementBO(predictor=surrogate), seeds
    raise ValueError(f"unknown bo variant {variant!r}; choose from {', '.join(BO_VARIANTS)}")


def cold_from_json(path: str, datasets: list[str], seeds: list[int], budget: int,
                   checkpoints: tuple[int, ...]) -> dict[str, list[dict[str, Any]]]:
    """Cold bo's curves per dataset (in ``seeds`` order) from a ``strategies_nbg.py`` JSON: valid regret at
    the ``checkpoints`` it stores (its ``regret_at``: 10, 50, 100) and, at the budget when it is a checkpoint,
    the final regret and test score (``valid_regret_pp``, ``test_pct``); the checkpoint 20 and the test
    score before the end are not stored there."""
    with open(path) as fh:
        data = json.load(fh)
    if data.get("config", {}).get("budget") != budget:
        raise SystemExit(f"--bo-cold-from {path}: its budget is {data.get('config', {}).get('budget')}, not {budget}")
    out: dict[str, list[dict[str, Any]]] = {}
    for d in datasets:
        by_seed = {int(r["seed"]): r for r in data["raw"].get(d, {}).get("bo", [])}
        missing = [s for s in seeds if s not in by_seed]
        if missing:
            raise SystemExit(f"--bo-cold-from {path}: no bo search on {d} for seeds {missing}")
        out[d] = []
        for s in seeds:
            r = by_seed[s]
            c = {str(k): {"regret_pp": float(r["regret_at"][str(k)])} for k in checkpoints if str(k) in r["regret_at"]}
            if budget in checkpoints:
                c[str(budget)] = {"regret_pp": float(r["valid_regret_pp"]), "test_pct": float(r["test_pct"])}
            out[d].append(c)
    return out


def merge_runs(paths: list[str], datasets: list[str], first_seed: int, n_seeds: int, budget: int,
               skip: list[str]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The bo variants' runs of earlier ``warmstart_nbg.py`` JSONs (same seeds and budget), per dataset,
    except the variants in ``skip`` (run here): the first file holding a variant gives it."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for path in paths:
        with open(path) as fh:
            data = json.load(fh)
        a = data["args"]
        n = min(a["bo_seeds"], a["seeds"])
        if (a["first_seed"], n, a["budget"]) != (first_seed, n_seeds, budget):
            raise SystemExit(f"--bo-merge {path}: its bo seeds {a['first_seed']}..{a['first_seed'] + n - 1} and budget "
                             f"{a['budget']} differ from this run's {first_seed}..{first_seed + n_seeds - 1} and {budget}")
        for d in datasets:
            runs = data["raw"].get(d, {}).get("runs", {})
            for v in BO_VARIANTS:
                if v in skip or v in out.get(d, {}) or not runs.get(v):
                    continue
                if len(runs[v]) != n_seeds:
                    raise SystemExit(f"--bo-merge {path}: {v} on {d} has {len(runs[v])} seeds, not {n_seeds}")
                out.setdefault(d, {})[v] = runs[v]
    return out

def wilcoxon_p(a: list[float], b: list[float]) -> float:
    """Two-sided paired Wilcoxon signed-rank p of a vs b (differences rounded to 1e-9; 1 when all tie)."""
    from scipy.stats import wilcoxon

    d = np.round(np.asarray(a) - np.asarray(b), 9)
    if not np.count_nonzero(d):
        return 1.0
    return float(wilcoxon(d, zero_method="wilcox", alternative="two-sided").pvalue)


def paired(raw: dict[str, Any], datasets: list[str], base: str, checkpoints: tuple[int, ...]) -> dict[str, Any]:
    """Every other bo variant against ``base``, paired by (dataset, seed), per checkpoint and quantity:
    mean difference (variant - base), its standard error, searches lower / higher / tied, Wilcoxon p."""
    variants = [v for v in BO_VARIANTS if v != base and all(raw[d]["runs"].get(v) for d in datasets)]
    out: dict[str, Any] = {}
    if not all(raw[d]["runs"].get(base) for d in datasets):
        return out
    rows = []
    for v in variants:
        for key in ("regret_pp", "test_pct"):
            for c in checkpoints:
                a, b = [], []
                for d in datasets:
                    for rv, rb in zip(raw[d]["runs"][v], raw[d]["runs"][base]):
                        x, y = rv.get(str(c), {}).get(key), rb.get(str(c), {}).get(key)
                        if x is not None and y is not None and math.isfinite(x) and math.isfinite(y):
                            a.append(x)
                            b.append(y)
                if not a:
                    continue
                diff = np.round(np.asarray(a) - np.asarray(b), 9)
                rec = {"n": len(a), "mean": float(np.mean(a)), "base_mean": float(np.mean(b)),
                       "diff": float(diff.mean()), "se": float(diff.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else math.nan,
                       "lower": int((diff < 0).sum()), "higher": int((diff > 0).sum()), "tied": int((diff == 0).sum()),
                       "wilcoxon_p": wilcoxon_p(a, b)}
                out.setdefault(v, {}).setdefault(key, {})[str(c)] = rec
                rows.append([v, key, c, rec["n"], f"{rec['mean']:.3f}", f"{rec['base_mean']:.3f}",
                             f"{rec['diff']:+.3f} ± {rec['se']:.3f}", f"{rec['lower']}/{rec['higher']}/{rec['tied']}",
                             f"{rec['wilcoxon_p']:.3g}"])
    if rows:
        print(f"\n## bo variants against {base}, paired by (dataset, seed): mean (variant), mean ({base}), difference ± se, "
              "searches lower / higher / tied, two-sided Wilcoxon p")
        print(format_table(["variant", "quantity", "@", "pairs", "variant", base, "diff ± se", "lower/higher/tied", "p"], rows))
    return out
