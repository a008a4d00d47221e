"""Probe for the transfer prior at 20 training architectures (issue 11; not the reporting benchmark).

``warmstart_nbg.py --only prior`` rebuilds the per-dataset ``TransferPrior`` and predicts every
architecture of the table with each past task's surrogate in every process. This probe does that
once per dataset (``--cache DIR``: one ``prior_<dataset>.npz`` with the per-task predictions of every
architecture, in ``task.space.enumerate()`` order, and the validation scores ``warmstart_nbg`` scores
on), then fits candidate predictors on the same splits as ``warmstart_nbg.tau_at_20`` (seed s:
``default_rng(s).choice`` of 20 training architectures, ``--tau-test`` random held-out ones scored, all
when omitted), with a prior that reads the cached predictions (same numbers as ``TransferPrior``).

    python benchmarks/prior_probe.py --store bench-results/warm_past.db --cache bench-results/prior_cache \\
        --seeds 100-105 --tau-test 3000 --models prior_rf_agree,... --json bench-results/pp.json
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
from warmstart_nbg import N_TRAIN, PAST_SEED, PAST_STRATEGIES, _truth, fill_store, read_store  # noqa: E402

from nasbook.knowledge import TransferPrior  # noqa: E402
from nasbook.predictors import kendall_tau  # noqa: E402
from nasbook.tasks import NasBenchGraph  # noqa: E402
from nasbook.tasks._nbg import NBG_DATASETS  # noqa: E402


class NpzPrior:
    """The per-task predictions of a TransferPrior, read from the cache (uniform task weights)."""

    def __init__(self, ids: np.ndarray, P: np.ndarray, tasks: list[str]):
        self.row = {str(i): k for k, i in enumerate(ids)}
        self.P = P
        self.models = tasks
        self.weights = {t: 1.0 for t in tasks}

    def predict_tasks(self, archs: list[Any]) -> dict[str, np.ndarray]:
        rows = np.array([self.row[a.id] for a in archs], dtype=np.int64)
        return {t: self.P[rows, j] for j, t in enumerate(self.models)}

    def predict(self, archs: list[Any]) -> np.ndarray:
        rows = np.array([self.row[a.id] for a in archs], dtype=np.int64)
        return self.P[rows].mean(axis=1)  # type: ignore[no-any-return]


#: the per-past-task surrogate of the TransferPrior (probe: --prior-model); "rf" is TransferPrior's default
PRIOR_SURROGATES = {
    "rf": lambda: None,
    "et": lambda: _pred().ExtraTrees(n_estimators=100, calibration="none", seed=0),
    "gp": lambda: _pred().GaussianProcess(calibration="none", seed=0),
    "gpd": lambda: _pred().GaussianProcess(drop=("level_count", "link_pattern"), calibration="none", seed=0),
    "ens": lambda: _pred().Ensemble(calibration="none", seed=0),
}


def _pred() -> Any:
    import nasbook.predictors

    return nasbook.predictors


def store_tag(searches: int = 1, trials: int = 150, skip: int = 0) -> str:
    """The knowledge base's size in cache names and JSON keys: '' for warmstart_nbg's store (one
    evolution and one random search of 150 trials per past dataset), else '_s{searches}t{trials}'
    (and 'o{skip}' when the searches start at seed PAST_SEED + skip)."""
    if (searches, trials, skip) == (1, 150, 0):
        return ""
    return f"_s{searches}t{trials}" + (f"o{skip}" if skip else "")


def cache_file(cache: str, d: str, prior_model: str, tag: str = "") -> str:
    return os.path.join(cache, f"prior_{d}{tag}.npz" if prior_model == "rf" else f"prior_{d}_{prior_model}{tag}.npz")


def past_table(store: str, searches: int = 1, trials: int = 150, skip: int = 0) -> Any:
    """The past trials: warmstart_nbg's store (``fill_store``: per dataset one evolution and one random
    search of 150 evaluations, seed PAST_SEED) plus, for ``searches`` > 1, more searches of the same
    strategies with seeds PAST_SEED + 1 .. (run into ``store`` unless there already), each cut to its
    first ``trials`` trials (a shorter search of the same seed: the strategies do not read the budget);
    ``skip``: the searches of seeds PAST_SEED + skip .. instead (another knowledge base of the same size)."""
    import nasbook
    from nasbook.tasks._nbg import NBG_DATASETS as DS

    names = fill_store(store, 150) if skip == 0 else []
    for i in range(max(skip, 1), skip + searches):
        for d in DS:
            for strat in PAST_STRATEGIES:
                name = f"past-{d}-{strat}-s{PAST_SEED + i}"
                names.append(name)
                try:
                    if nasbook.load_search(name, store).n_trials >= 150:
                        continue
                except Exception:  # noqa: BLE001 - not there yet: run it
                    pass
                nasbook.Search(NasBenchGraph(d), strategy=strat, budget=150, seed=PAST_SEED + i, storage=store,
                               name=name).run(progress="none")
    past = read_store(store, names)
    return past.groupby("search", sort=False).head(trials).reset_index(drop=True)


def build_cache(store: str, cache: str, datasets: list[str], prior_model: str = "rf", searches: int = 1,
                trials: int = 150, skip: int = 0) -> None:
    os.makedirs(cache, exist_ok=True)
    tag = store_tag(searches, trials, skip)
    todo = [d for d in datasets if not os.path.exists(cache_file(cache, d, prior_model, tag))]
    if not todo:
        return
    past = past_table(store, searches, trials, skip)
    print(f"past trials: {len(past)} in {past['search'].nunique()} searches", flush=True)
    for d in todo:
        t0 = time.perf_counter()
        task = NasBenchGraph(d)
        archs, y = _truth(d)
        prior = TransferPrior(past[past["task"] != task.name], task.space, seed=0,
                              model=PRIOR_SURROGATES[prior_model]())
        per = prior.predict_tasks(archs)
        tasks = list(prior.models)
        P = np.stack([per[t] for t in tasks], axis=1)
        np.savez(cache_file(cache, d, prior_model, tag), ids=np.array([a.id for a in archs]), P=P, y=y,
                 tasks=np.array(tasks))
        print(f"cache {d}: {P.shape} in {time.perf_counter() - t0:.0f} s", flush=True)


def training_set(proto: str, prior: Any, task: Any, archs: list[Any], idx: np.ndarray, mask: np.ndarray,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the training architectures chosen by ``proto`` and the held-out mask: ``mask`` minus them."""
    from nasbook.knowledge import select_landmarks

    proto, _, pick = proto.partition("/")
    by, _, k = proto.partition(":")
    k_lm = int(k) if k else N_TRAIN
    if by in ("seq", "seqk"):  # round 5: k landmarks measured, the tasks reweighted, the rest chosen
        from _prior_candidates import sequential_landmarks

        _, y = _truth(task.dataset)
        tidx = np.array(sequential_landmarks(prior, archs, y, k_lm, N_TRAIN, seed, task.space,
                                                     covered=by == "seq"),
                        dtype=np.int64)
        tmask = mask.copy()
        tmask[tidx] = False
        return tidx, tmask
    row = {a.id: i for i, a in enumerate(archs)}
    lm = [row[a.id] for a in select_landmarks(prior, k_lm, by=by, candidates=archs, seed=seed, space=task.space,
                                              pick=pick or "centre")]
    rest = [int(i) for i in idx if int(i) not in set(lm)][: N_TRAIN - k_lm]
    tidx = np.array(lm + rest, dtype=np.int64)
    tmask = mask.copy()
    tmask[tidx] = False
    return tidx, tmask


def candidates(prior: Any, seed: int) -> dict[str, Any]:
    from _prior_candidates import candidate_models

    return candidate_models(prior, seed)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--datasets", default="all")
    ap.add_argument("--seeds", default="100-102", help="first-last (probes: >= 100)")
    ap.add_argument("--tau-test", type=lambda v: None if v == "all" else int(v), default=3000,
                    help="random held-out architectures scored per split, or 'all' (every other one of the table)")
    ap.add_argument("--train", default="random",
                    help="comma-separated training-set choices: 'random' (20 uniform, as warmstart_nbg), a "
                         "select_landmarks by= ('predictions', 'encoding', 'both', 'disagreement'), 'seq:K'/'seqk:K' "
                         "(K landmarks measured, the rest chosen on the agreement-weighted predictions: "
                         "_prior_candidates.sequential_landmarks), or 'BY:K' "
                         "(K landmarks, the rest the random split's first ones); '/random' after it: a random member of each "
                         "k-means cluster instead of the one nearest its centre")
    ap.add_argument("--models", default="prior_rf_agree")
    ap.add_argument("--prior-model", default="rf", choices=sorted(PRIOR_SURROGATES),
                    help="the TransferPrior's per-task surrogate (rf: its default)")
    ap.add_argument("--past-searches", type=int, default=1,
                    help="the knowledge base's size: searches per strategy and past dataset (1: warmstart_nbg's store)")
    ap.add_argument("--past-trials", type=int, default=150, help="each past search cut to its first N trials (<= 150)")
    ap.add_argument("--past-skip", type=int, default=0,
                    help="the past searches of seeds 1000 + skip .. instead (another knowledge base of the same size)")
    ap.add_argument("--json", required=True)
    args = ap.parse_args()
    for bad, msg in ((args.past_searches < 1, f"--past-searches must be >= 1; got {args.past_searches}"),
                     (not 5 <= args.past_trials <= 150, f"--past-trials must be in 5..150; got {args.past_trials}"),
                     (args.past_skip < 0, f"--past-skip must be >= 0; got {args.past_skip}")):
        if bad:
            ap.error(msg)
    tag = store_tag(args.past_searches, args.past_trials, args.past_skip)
    datasets = list(NBG_DATASETS) if args.datasets == "all" else args.datasets.split(",")
    lo, _, hi = args.seeds.partition("-")
    seeds = list(range(int(lo), int(hi or lo) + 1))
    build_cache(args.store, args.cache, datasets, args.prior_model, args.past_searches, args.past_trials,
                args.past_skip)
    out: dict[str, Any] = json.loads(open(args.json).read()) if os.path.exists(args.json) else {}
    models = args.models.split(",")
    protocols = args.train.split(",")
    for d in datasets:
        task = NasBenchGraph(d)
        z = np.load(cache_file(args.cache, d, args.prior_model, tag))
        prior = NpzPrior(z["ids"], z["P"], [str(t) for t in z["tasks"]])
        archs, y = _truth(d)
        assert [a.id for a in archs] == [str(i) for i in z["ids"]]
        for seed in seeds:
            rng = np.random.default_rng(seed)
            idx = rng.choice(len(archs), N_TRAIN, replace=False)
            mask = np.ones(len(archs), dtype=bool)
            mask[idx] = False
            if args.tau_test is not None and args.tau_test < mask.sum():
                mask[rng.choice(np.flatnonzero(mask), int(mask.sum()) - args.tau_test, replace=False)] = False
            key0 = f"{d}/{seed}" if args.prior_model == "rf" else f"{d}/{seed}/{args.prior_model}"
            rec = out.setdefault(key0 + tag.replace("_", "/"), {})
            for proto in protocols:
                # the random protocol's split as before; a landmark protocol trains on its own choice and
                # is scored on the random protocol's held-out sample minus what it trained on
                tidx, tmask = (idx, mask) if proto == "random" else training_set(proto, prior, task, archs, idx, mask, seed)
                if proto != "random":
                    rec.setdefault("train", {})[proto] = [archs[i].id for i in tidx]
                train = [archs[i] for i in tidx]
                test = [a for a, m in zip(archs, tmask) if m]
                for name in models:
                    key = name if proto == "random" else f"{name}@{proto}"
                    if key in rec:
                        continue
                    model = candidates(prior, seed)[name]
                    t0 = time.perf_counter()
                    model.fit(train, y[tidx], space=task.space)
                    rec[key] = kendall_tau(y[tmask], model.predict_mean_std(test)[0])
                    print(f"{d}/{seed} {key}: {rec[key]:.3f} ({time.perf_counter() - t0:.1f} s)", flush=True)
            with open(args.json + ".tmp", "w") as f:
                json.dump(out, f)
            os.replace(args.json + ".tmp", args.json)
    seed_set = {str(x) for x in seeds}
    base = models[0]
    suffix = ("" if args.prior_model == "rf" else f"/{args.prior_model}") + tag.replace("_", "/")
    wanted = {f"{d}/{x}{suffix}" for d in datasets for x in seed_set}
    for name in models:
        for proto in protocols:
            key = name if proto == "random" else f"{name}@{proto}"
            ref = base if proto == "random" else name  # a landmark row: against the same model on random 20
            pairs = [(r[key], r[ref], r.get(base, np.nan)) for k, r in out.items()
                     if key in r and ref in r and k in wanted]
            if pairs:
                a = np.array(pairs)
                print(f"{key:40s} tau {a[:, 0].mean():.4f} vs {ref} {np.mean(a[:, 0] - a[:, 1]):+.4f} "
                      f"higher {(a[:, 0] > a[:, 1]).sum()}/{len(a)}; vs {base} {np.mean(a[:, 0] - a[:, 2]):+.4f} "
                      f"higher {(a[:, 0] > a[:, 2]).sum()}/{len(a)} (pairs {len(a)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
