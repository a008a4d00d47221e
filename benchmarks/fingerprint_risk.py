"""How well does ``divergence_risk`` tell real diverged runs from healthy ones? (leave-one-out, ROC AUC, flag rates)

The 45 short ``Digits`` trainings of ``health_divergence_grid.py`` (3 MLPs x 3 seeds x lr 1e-3, 0.1, 1, 10, 1e3),
each trained to the end with a shadow ``HealthCheck``; its label is DIVERGED when the shadow would have raised.
Each run's *stored* fingerprint is what a search stores with the trial: the ``fp_*`` of the steps it ran, i.e. up
to the step the health check would have stopped it (at most ``RunFingerprint``'s 50). Views of the *query* run:

* ``stored``: its stored fingerprint (leave-one-out against the other 44 stored ones);
* ``early``: the fingerprint of its first ``--early`` steps only (what a strategy sees when it must flag a new run
  early), against the other runs' stored fingerprints.

For each view and k in 1, 3, 5: ROC AUC of the risk (diverged vs not; ``sklearn.metrics.roc_auc_score``), and the
fraction of diverged / healthy runs flagged at ``FingerprintStopping``'s default threshold (0.5). *Healthy* here is
every run not labelled DIVERGED. The imported nasbook's ``divergence_risk`` is measured (run it on two trees to
compare: ``PYTHONPATH``); ``--variants`` also scores candidate distances computed here, on a split of the seeds:
``choose`` seeds (leave-one-out among them) and ``report`` seeds (queried against the ``choose`` seeds' runs).

    export PYTHONPATH=$PWD OMP_NUM_THREADS=1
    nice python benchmarks/fingerprint_risk.py --json /tmp/fp-risk.json [--runs-from /tmp/fp-risk.json] [--variants]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table, metadata, write_json  # noqa: E402
from health_divergence_grid import LRS, _shadow_class  # noqa: E402

KS = (1, 3, 5)
THRESHOLD = 0.5  # FingerprintStopping's default


def run_one(task: Any, space: Any, arch: Any, lr: float, seed: int, epochs: int, early: int) -> dict[str, Any]:
    from nasbook.training import RunFingerprint, seeded, train
    from nasbook.training._fingerprint import fingerprint

    info = task.data_info()
    with seeded(seed, 1):
        net = space.build(arch, info["input_shape"], info["n_classes"])
    printer = RunFingerprint(steps=10**6)
    shadow = _shadow_class()()
    stop: list[int] = []
    guard = shadow._guard

    def noting(hook: Any, *args: Any) -> None:  # the step count when the shadow first raises
        before = shadow.first
        guard(hook, *args)
        if before is None and shadow.first is not None:
            stop.append(len(shadow.losses))
    shadow._guard = noting
    out = train(net, task.datamodule, max_epochs=epochs, seed=seed, lr=lr, health=False, test=False,
                fingerprint=False, callbacks=[printer, shadow])
    first, final = shadow.losses[0], out["curves"]["train_loss"][-1]
    n = min(stop[0] if stop else len(printer.losses), 50)
    return {"lr": lr, "seed": seed, "arch": arch.id, "diverged": shadow.first is not None,
            "stop_step": stop[0] if stop else None,
            "healthy": math.isfinite(final) and final < first, "first": first, "final": final, "why": shadow.first,
            "stored": fingerprint(printer.losses[:n], printer.grad_norms[:n]),
            "early": fingerprint(printer.losses[:min(n, early)], printer.grad_norms[:min(n, early)])}


# ---------------------------------------------------------------- candidate distances (for --variants)
def _variant_risk(variant: str, x: dict[str, float], past: list[dict[str, Any]], k: int) -> float:
    import numpy as np

    from nasbook.strategies._fingerprint import DEFAULT_FEATURES, SCALE_FLOOR

    cols = list(DEFAULT_FEATURES)
    X = np.array([[p[c] for c in cols] for p in past], dtype=float)
    div = np.array([p["diverged"] for p in past], dtype=bool)
    q = np.array([x[c] for c in cols], dtype=float)
    if "log" in variant:  # signed log1p of every entry: orders of magnitude of the (already log) entries
        X, q = np.sign(X) * np.log1p(np.abs(X)), np.sign(q) * np.log1p(np.abs(q))
    ref = X[~div] if "healthy" in variant and (~div).sum() >= 2 else X
    if "mad" in variant:
        spread = 1.4826 * np.median(np.abs(ref - np.median(ref, axis=0)), axis=0)
    elif "iqr" in variant:
        spread = (np.percentile(ref, 75, axis=0) - np.percentile(ref, 25, axis=0)) / 1.349
    else:
        spread = ref.std(axis=0)
    floor = SCALE_FLOOR if "log" not in variant else math.log1p(SCALE_FLOOR)
    scale = np.maximum(spread, floor)
    d = np.sqrt((((X - q) / scale) ** 2).sum(axis=1))
    return float(div[np.argsort(d, kind="stable")[:min(k, len(d))]].mean())


VARIANTS = ("std", "mad", "iqr", "healthy-std", "log-std", "log-mad", "log-iqr", "log-healthy-std")


def _score(risks: list[float], labels: list[bool]) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    d = [r for r, y in zip(risks, labels) if y]
    h = [r for r, y in zip(risks, labels) if not y]
    return {"auc": float(roc_auc_score(labels, risks)) if d and h else math.nan,
            "div_flag": sum(r >= THRESHOLD for r in d) / max(len(d), 1),
            "healthy_flag": sum(r >= THRESHOLD for r in h) / max(len(h), 1)}


def _by_group(risks: list[float], runs: list[dict[str, Any]]) -> dict[str, float]:
    """Flag rates of the runs not DIVERGED, split into truly healthy (final loss below the first step's) and not."""
    out = {}
    for name, want in (("healthy_flag_final_below_first", True), ("not_diverged_not_healthy_flag", False)):
        r = [x for x, run in zip(risks, runs) if not run["diverged"] and bool(run.get("healthy")) is want]
        out[name] = sum(x >= THRESHOLD for x in r) / len(r) if r else math.nan
    return out


def _small(runs: list[dict[str, Any]], pool: list[int], i: int, draws: int) -> list[list[int]]:
    """``draws`` small past sets for query ``i`` (3 runs not DIVERGED + 3 DIVERGED from ``pool``, fixed seed)."""
    import numpy as np

    rng = np.random.default_rng(1000 + i)
    h = [j for j in pool if not runs[j]["diverged"]]
    d = [j for j in pool if runs[j]["diverged"]]
    return [[*rng.choice(h, 3, replace=False), *rng.choice(d, 3, replace=False)] for _ in range(draws)]


def measure(runs: list[dict[str, Any]], risk: Any, queries: list[int], past_of: Any,
            small: int = 0) -> dict[str, dict[str, Any]]:
    """{view: {k: score}} of ``risk(fp, past_records, k)`` for each query run against ``past_of(i)``; with
    ``small``, also (view ``small-*``) against ``small`` random past sets of 3 healthy + 3 diverged runs each."""
    out: dict[str, dict[str, Any]] = {}
    for view in ("stored", "early"):
        for tag in ("", "small-"):
            if tag and not small:
                continue
            out[tag + view] = {}
            for k in KS:
                risks, labels = [], []
                for i in queries:
                    for past in ([past_of(i)] if not tag else _small(runs, past_of(i), i, small)):
                        rec = [{**runs[j]["stored"], "diverged": runs[j]["diverged"]} for j in past]
                        risks.append(risk(runs[i][view], rec, k))
                        labels.append(runs[i]["diverged"])
                out[tag + view][str(k)] = {**_score(risks, labels), **_by_group(
                    risks, [runs[i] for i in queries for _ in range(1 if not tag else small)])}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--archs", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--early", type=int, default=5, help="steps of the early view (default 5)")
    ap.add_argument("--quick", action="store_true", help="1 architecture")
    ap.add_argument("--runs-from", help="reuse the runs of an earlier --json (no training)")
    ap.add_argument("--variants", action="store_true", help="also score candidate distances on a seed split")
    ap.add_argument("--choose-seeds", default="0,1", help="seeds the variants are chosen on (default 0,1)")
    ap.add_argument("--small", type=int, default=20,
                    help="random small past sets (3 healthy + 3 diverged) per query run, views small-* (0: none)")
    ap.add_argument("--json", help="write every run and the tables here")
    args = ap.parse_args(argv)
    if args.quick:
        args.archs = 1
    import warnings

    import numpy as np

    import nasbook
    from nasbook.strategies import divergence_risk

    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    if args.runs_from:
        runs = json.loads(Path(args.runs_from).read_text())["runs"]
    else:
        from nasbook.space import ChainSpace
        from nasbook.tasks import Digits

        space = ChainSpace(kind="mlp")
        task = Digits(max_epochs=args.epochs)
        archs = [space.sample(np.random.default_rng(100 + i)) for i in range(args.archs)]
        runs = [run_one(task, space, a, lr, seed, args.epochs, args.early)
                for lr in LRS for seed in range(args.seeds) for a in archs]
    n = len(runs)
    print(f"# nasbook {nasbook.__file__}; {n} runs ({sum(r['diverged'] for r in runs)} DIVERGED), "
          f"{time.perf_counter() - t0:.0f} s")

    def lib(fp: dict[str, float], past: list[dict[str, Any]], k: int) -> float:
        return divergence_risk(fp, past, k=k)
    loo = measure(runs, lib, list(range(n)), lambda i: [j for j in range(n) if j != i], small=args.small)
    rows = [[view, k, f"{s['auc']:.3f}", f"{s['div_flag']:.2f}", f"{s['healthy_flag']:.2f}",
             f"{s['healthy_flag_final_below_first']:.2f}", f"{s['not_diverged_not_healthy_flag']:.2f}"]
            for view, by_k in loo.items() for k, s in by_k.items()]
    print(f"divergence_risk, leave-one-out over all runs (flag: risk >= 0.5); "
          f"{sum(bool(r.get('healthy')) for r in runs)} runs healthy (final loss below the first step's)")
    print(format_table(["view", "k", "AUC", "diverged flagged", "not diverged flagged", "of them healthy",
                        "of them not healthy"], rows))
    result: dict[str, Any] = {"meta": metadata(), "early_steps": args.early, "loo": loo, "runs": runs}
    if args.variants:
        choose = {int(s) for s in args.choose_seeds.split(",")}
        c_idx = [i for i in range(n) if runs[i]["seed"] in choose]
        r_idx = [i for i in range(n) if runs[i]["seed"] not in choose]
        vrows, result["variants"] = [], {}
        for v in VARIANTS:
            def vr(fp: dict[str, float], past: list[dict[str, Any]], k: int, v: str = v) -> float:
                return _variant_risk(v, fp, past, k)
            ch = measure(runs, vr, c_idx, lambda i: [j for j in c_idx if j != i], small=args.small)
            rep = measure(runs, vr, r_idx, lambda i: c_idx, small=args.small)
            result["variants"][v] = {"choose": ch, "report": rep}
            for view in ch:
                for k in map(str, KS):
                    a, b = ch[view][k], rep[view][k]
                    vrows.append([v, view, k, f"{a['auc']:.3f}", f"{a['healthy_flag']:.2f}", f"{b['auc']:.3f}",
                                  f"{b['div_flag']:.2f}", f"{b['healthy_flag']:.2f}"])
        print(f"variants: chosen on seeds {sorted(choose)} (leave-one-out), reported on the others (against the chosen)")
        print(format_table(["variant", "view", "k", "choose AUC", "choose healthy fl.", "report AUC",
                            "report div fl.", "report healthy fl."], vrows))
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
