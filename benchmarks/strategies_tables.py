"""Strategies off NAS-Bench-Graph: the Digits and MNIST-1D learning-curve tables (an out-of-sample check).

Every strategy default was measured on NAS-Bench-Graph (docs/benchmarks.md 1, 1b, 11.6*). This
script runs the same methods on the two other tables nasbook ships, which no default was tuned on:

* ``digits``: :class:`nasbook.tasks.DigitsTable`, 300 ``CellSpace()`` cells (of 8,764) trained on
  Digits for 9 epochs under 2 training seeds;
* ``mnist1d``: :class:`nasbook.tasks.MNIST1DTable`, 210 ``ConvDenseSpace()`` networks (of 1.4 million)
  trained on MNIST-1D for 15 epochs under 2 training seeds.

Each method runs through ``nasbook.Search(task, strategy=..., budget=B, seed=s, storage=":memory:")``
on the task with its defaults (``seed="mean"``: the mean of the table's two training seeds). A plain
strategy asks no fidelity, so every query is answered with the table's LAST epoch (full fidelity):
``trial.value`` is the final validation accuracy (``task.values()``) and ``trial.attrs["test_accuracy"]``
the test accuracy of the trained network. Methods:

* ``random``, ``evolution``, ``local``, ``bo``: ``strategy=<name>`` (the defaults);
* ``portfolio``: ``strategies.Portfolio(bandit="hedge")``, its default arms (random, evolution,
  local, bo);
* ``optuna-tpe``: ``strategies.OptunaSampler(optuna.samplers.TPESampler(seed=s))``, as in
  ``strategies_nbg.py``. Optuna searches the PARENT space's parameters (``SubsetSpace.suggest``:
  CellSpace's ``edge_i_j`` ops; ConvDenseSpace's ``n_conv``, ``conv{p}_op/width``, ``n_dense``,
  ``dense{p}_width``); a combination the table does not hold is told FAIL and, with
  ``OptunaSampler``'s default ``project=True`` (section 1m), answered by its nearest unseen member,
  added to the study with its own parameters (counted); when there is none, after
  ``--max-retries`` such proposals in a row the strategy answers with an unseen member itself (a
  fallback, counted). Before 1m (``project=False``) most asks ended in the fallback (section 1k).
  ``--optuna-project-unseen true`` projects onto the nearest UNSEEN members at whatever distance
  instead of retrying when the nearest members are all seen (``project_unseen=True``, section 1o).
* ``optuna-tpe-nearest``: the same TPE (``project=False``), but
  a combination that is no member is mapped to the NEAREST member (Hamming distance of the parent's
  adjacency encoding, first in table order on ties) and Optuna is told that member's value for its
  proposal: the usual way to run a parameter-space optimiser on a tabular subset.

Budget = distinct architectures queried (no strategy repeats one; checked). Reported: mean valid
regret (pp, against the table's best final validation accuracy) after each checkpoint, paired
two-sided Wilcoxon tests of bo against TPE and evolution and of the Portfolio against its best arm,
and the test accuracy of the architecture returned (the incumbent: the first best-validation one).

Usage::

    python benchmarks/strategies_tables.py --seeds 20 --budget 50 --checkpoints 10,20,30,50 --json FILE
    # an exhaustive budget (every architecture of the table): regret 0 at the end, whatever the method
    python benchmarks/strategies_tables.py --methods random,local --seeds 2 --budget all --checkpoints 10,all
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

import numpy as np
from _common import describe_machine, describe_package, format_table, mean_std, metadata, pm, write_json
from strategies_nbg import HIT_TOL, _wilcoxon

import nasbook
from nasbook._errors import InvalidArchitectureError
from nasbook.space import Architecture, SubsetSpace
from nasbook.strategies import OptunaSampler, Portfolio
from nasbook.strategies._portfolio import DEFAULT_ARMS
from nasbook.tasks import DigitsTable, MNIST1DTable

TABLES: dict[str, type] = {"digits": DigitsTable, "mnist1d": MNIST1DTable}
NASBOOK_METHODS = ("random", "evolution", "local", "bo")
OPTUNA_METHODS = ("optuna-tpe", "optuna-tpe-nearest")
ALL_METHODS = (*NASBOOK_METHODS, "optuna-tpe", "portfolio", "optuna-tpe-nearest")
DEFAULT_METHODS = ALL_METHODS
#: the Portfolio's arms (``strategy="portfolio"``'s documented default)
ARMS = tuple(DEFAULT_ARMS)
#: Portfolio parameters other than its defaults (probes: --hedge-distinct, --hedge-reward)
PORTFOLIO_PARAMS: dict[str, Any] = {}


class NearestMemberSubset(SubsetSpace):
    """A table's ``SubsetSpace`` whose ``suggest`` maps a parent combination that is no member to the
    nearest member (Hamming distance of the parent's adjacency encoding; the first in table order on
    ties). Same members and ``space_id`` as the table's own space; only ``suggest`` differs."""

    n_projected = 0  # suggestions mapped to another member (reset by the caller per search)

    def suggest(self, choose: Any) -> Architecture:
        parent_arch = self.space.suggest(choose)  # InvalidArchitectureError: no architecture at all (FAIL)
        try:
            return self.from_parent(parent_arch)
        except InvalidArchitectureError:
            pass
        codes = self.__dict__.get("_nearest_codes")
        if codes is None:
            codes = self.space.encode_many([self.to_parent(m) for m in self.members], "adjacency") > 0.5
            self.__dict__["_nearest_codes"] = codes
        code = self.space.encode_many([parent_arch], "adjacency")[0] > 0.5
        self.n_projected += 1
        return self.members[int(np.argmin((codes != code).sum(axis=1)))]


_NEAREST: dict[str, NearestMemberSubset] = {}


def nearest_space(table: str) -> NearestMemberSubset:
    if table not in _NEAREST:
        own = TABLES[table]().space
        sub = NearestMemberSubset(own.space, own.archs)
        assert sub.space_id == own.space_id and sub.ids == own.ids
        _NEAREST[table] = sub
    return _NEAREST[table]


class _NearestDigits(DigitsTable):
    @property
    def space(self) -> SubsetSpace:
        return nearest_space("digits")


class _NearestMNIST1D(MNIST1DTable):
    @property
    def space(self) -> SubsetSpace:
        return nearest_space("mnist1d")


NEAREST_TASKS: dict[str, type] = {"digits": _NearestDigits, "mnist1d": _NearestMNIST1D}


def make_strategy(method: str, seed: int, max_retries: int, project_unseen: bool | None = None) -> Any:
    if method in NASBOOK_METHODS:
        return method
    if method == "portfolio":
        return Portfolio(bandit="hedge", **PORTFOLIO_PARAMS)
    if method in OPTUNA_METHODS:
        import optuna

        # the nearest variant maps non-members in its space's suggest; OptunaSampler's own projection
        # (project=True, section 1m) draws the parent's architecture itself and would bypass that map
        extra = {} if project_unseen is None else {"project_unseen": project_unseen}  # else OptunaSampler's default
        return OptunaSampler(optuna.samplers.TPESampler(seed=seed), max_retries=max_retries,
                             project=method != "optuna-tpe-nearest", **extra)
    raise ValueError(method)  # pragma: no cover


def run_one(table: str, method: str, seed: int, budget: int, checkpoints: list[int], max_retries: int,
            project_unseen: bool | None = None) -> dict[str, Any]:
    """One search: regret and the incumbent's test accuracy after each checkpoint, and its diagnostics."""
    t0 = time.perf_counter()
    task = (NEAREST_TASKS if method == "optuna-tpe-nearest" else TABLES)[table]()
    if method == "optuna-tpe-nearest":
        nearest_space(table).n_projected = 0
    values_all = task.values()
    vmax = float(values_all.max())
    strategy = make_strategy(method, seed, max_retries, project_unseen)
    search = nasbook.Search(task, strategy=strategy, budget=budget, seed=seed, storage=":memory:").run(progress="none")
    wall = time.perf_counter() - t0
    trials = search.trials
    ids = [t.arch.id for t in trials]
    if len(set(ids)) != len(ids):
        raise AssertionError(f"{method} repeated an architecture on {table}, seed {seed}")
    if len(ids) != budget:
        raise AssertionError(f"{method} ran {len(ids)} trials on {table}, seed {seed}, not the budget {budget}")
    # every answer is the table's final validation accuracy of that architecture (full fidelity)
    for t in trials:
        if t.value is None or abs(t.value - values_all[task.space.index(t.arch.id)]) > 1e-12 or t.epochs != task.max_epochs:
            raise AssertionError(f"{method} on {table}: trial {t.arch.id} was not answered at the table's last epoch")
    values = [float(t.value) for t in trials]  # type: ignore[arg-type]
    # the incumbent after each query: the first trial with the best value so far (what Search.best returns)
    inc, best_i = [], 0
    for i, v in enumerate(values):
        if v > values[best_i]:
            best_i = i
        inc.append(best_i)
    best = search.best
    assert best is not None and best.arch.id == ids[inc[-1]], "the incumbent disagrees with Search.best"
    out: dict[str, Any] = {
        "seed": seed,
        "best_arch": best.arch.id,
        "best_valid": float(best.value),  # type: ignore[arg-type]
        "valid_regret_pp": 100.0 * (vmax - float(best.value)),  # type: ignore[arg-type]
        "test_pct": 100.0 * float(best.attrs["test_accuracy"]),
        "hit": bool(float(best.value) >= vmax - HIT_TOL),  # type: ignore[arg-type]
        "regret_at": {str(c): 100.0 * (vmax - values[inc[c - 1]]) for c in checkpoints},
        "test_at": {str(c): 100.0 * float(trials[inc[c - 1]].attrs["test_accuracy"]) for c in checkpoints},
        "wall_s": wall,
        "ms_per_trial": 1e3 * wall / budget,
    }
    if method in OPTUNA_METHODS:
        import optuna

        study = search.strategy.study_  # type: ignore[attr-defined]
        n_fail = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
        # the study also holds the trials Optuna did not propose: fallbacks and (project=True) the members
        # that answered a non-member proposal, each added with its own parameters
        n_proj = int(getattr(search.strategy, "n_projected_", 0))
        out.update(n_proposals=len(study.trials) - search.strategy.n_fallbacks_ - n_proj,  # type: ignore[attr-defined]
                   n_failed=n_fail, n_duplicates=search.strategy.n_rejected_ - n_fail,  # type: ignore[attr-defined]
                   n_fallbacks=search.strategy.n_fallbacks_, n_projected_queries=n_proj)  # type: ignore[attr-defined]
        if method == "optuna-tpe-nearest":
            out["n_projected"] = nearest_space(table).n_projected
    if method == "portfolio":
        pf = search.strategy
        out["shares"] = dict(pf.shares_)  # type: ignore[attr-defined]
        out["history"] = list(pf.history_)  # type: ignore[attr-defined]
    if method == "bo":
        out["n_initial"] = int(nasbook.strategies.get_strategy("bo").n_initial)  # type: ignore[attr-defined]
    return out


def _paired(a: list[float], b: list[float]) -> dict[str, Any]:
    """a against b, paired by seed: means, lower/higher/tied counts, two-sided Wilcoxon p (ties dropped)."""
    x = np.round(np.asarray(a) - np.asarray(b), 9)
    p, note = _wilcoxon(a, b)
    return {"mean_a": float(np.mean(a)), "mean_b": float(np.mean(b)), "mean_diff_pp": float(x.mean()),
            "lower": int((x < 0).sum()), "higher": int((x > 0).sum()), "tied": int((x == 0).sum()),
            "wilcoxon_p": p, "note": note}


def _fmt_p(p: float) -> str:
    return "nan" if math.isnan(p) else f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"


def _parse_points(text: str, what: str, ap: argparse.ArgumentParser) -> list[int | str]:
    out: list[int | str] = []
    for tok in (t.strip() for t in text.split(",") if t.strip()):
        if tok == "all":
            out.append("all")
            continue
        try:
            n = int(tok)
        except ValueError:
            ap.error(f"{what} takes positive integers or 'all'; got {tok!r}")
        if n < 1:
            ap.error(f"{what} takes positive integers or 'all'; got {tok!r}")
        out.append(n)
    if not out:
        ap.error(f"{what} is empty")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default="digits,mnist1d", help="comma-separated subset of " + ",".join(TABLES))
    ap.add_argument("--methods", default=",".join(DEFAULT_METHODS), help="comma-separated subset of " + ",".join(ALL_METHODS))
    ap.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1, the same for every method (default 20)")
    ap.add_argument("--first-seed", type=int, default=0, help="first seed (default 0)")
    ap.add_argument("--budget", default="50", help="distinct architectures per search, or 'all' (the whole table) (default 50)")
    ap.add_argument("--checkpoints", default="10,20,30,50",
                    help="query counts to report regret at ('all' = the table's size); those above the budget are dropped")
    ap.add_argument("--max-retries", type=int, default=10, help="OptunaSampler's max_retries (default 10, its default)")
    ap.add_argument("--optuna-project-unseen", choices=("true", "false"), default=None,
                    help="OptunaSampler's project_unseen for optuna-tpe (default: its default; false: section 1m's projection)")
    ap.add_argument("--hedge-distinct", default=None, choices=["yes", "no"], help="the portfolio's Portfolio(hedge_distinct=...)")
    ap.add_argument("--hedge-reward", default=None, choices=["told", "round"], help="the portfolio's Portfolio(hedge_reward=...)")
    ap.add_argument("--json", default=None, help="write raw per-seed numbers, summaries and metadata here")
    args = ap.parse_args(argv)
    PORTFOLIO_PARAMS.clear()
    if args.hedge_distinct is not None:
        PORTFOLIO_PARAMS["hedge_distinct"] = args.hedge_distinct == "yes"
    if args.hedge_reward is not None:
        PORTFOLIO_PARAMS["hedge_reward"] = args.hedge_reward

    tables = [t.strip() for t in args.tables.split(",") if t.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    for t in tables:
        if t not in TABLES:
            ap.error(f"unknown table {t!r}; choose from {', '.join(TABLES)}")
    for m in methods:
        if m not in ALL_METHODS:
            ap.error(f"unknown method {m!r}; choose from {', '.join(ALL_METHODS)}")
    if not tables or not methods or args.seeds < 1 or args.max_retries < 0:
        ap.error("--tables and --methods must not be empty, --seeds >= 1, --max-retries >= 0")
    project_unseen = None if args.optuna_project_unseen is None else args.optuna_project_unseen == "true"
    budget_arg = _parse_points(args.budget, "--budget", ap)
    if len(budget_arg) != 1:
        ap.error("--budget takes one value")
    cp_arg = _parse_points(args.checkpoints, "--checkpoints", ap)
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))

    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    meta = metadata([sys.argv[0], *(sys.argv[1:] if argv is None else argv)])
    print(f"# strategies_tables: {', '.join(methods)} on {', '.join(tables)}; seeds {seeds[0]}..{seeds[-1]}; "
          f"budget {args.budget} distinct architectures; full fidelity (the table's last epoch)")
    print(f"# {meta['date_utc']}  {describe_machine(meta)}")
    print(f"# {describe_package(meta)}")
    print(f"# {meta['command']}")

    raw: dict[str, dict[str, list[dict[str, Any]]]] = {}
    summary: dict[str, dict[str, Any]] = {}
    comparisons: dict[str, dict[str, Any]] = {}
    table_info: dict[str, Any] = {}
    t_all = time.perf_counter()
    for tname in tables:
        task = TABLES[tname]()
        n = task.space.cardinality
        budget = n if budget_arg[0] == "all" else min(int(budget_arg[0]), n)
        cps = sorted({n if c == "all" else int(c) for c in cp_arg} | {budget})
        cps = [c for c in cps if c <= budget]
        vals = task.values()
        test = task._per_arch(task.table.test_accuracy)
        vmax = float(vals.max())
        i_best = int(np.argmax(vals))
        table_info[tname] = {
            "n_archs": n, "parent_space": repr(task.space.space), "epochs": task.max_epochs, "budget": budget,
            "checkpoints": cps, "max_valid_pct": 100 * vmax, "n_at_max": int((vals >= vmax - HIT_TOL).sum()),
            "n_within_pp": {str(x): int((vals >= vmax - x / 100 - HIT_TOL).sum()) for x in (0.25, 0.5, 1.0, 2.0)},
            "distinct_values": int(len(np.unique(np.round(vals, 9)))),
            "test_of_best_valid_pct": 100 * float(test[i_best]), "max_test_pct": 100 * float(test.max()),
            "test_of_each_best_valid_pct": [100 * float(x) for x in test[vals >= vmax - HIT_TOL]],
            "mean_test_pct": 100 * float(test.mean()),
        }
        if "optuna-tpe-nearest" in methods:
            nearest_space(tname)
        nasbook.Search(task, strategy="random", budget=2, seed=0, storage=":memory:").run(progress="none")  # warm-up
        raw[tname] = {m: [] for m in methods}
        t_d = time.perf_counter()
        for s in seeds:  # methods interleaved within each seed: machine noise spreads evenly
            for m in methods:
                raw[tname][m].append(run_one(tname, m, s, budget, cps, args.max_retries, project_unseen))
        elapsed = time.perf_counter() - t_d

        ti = table_info[tname]
        summary[tname] = {}
        for m in methods:
            rs = raw[tname][m]
            sm: dict[str, Any] = {
                "regret_at_mean": {str(c): mean_std([r["regret_at"][str(c)] for r in rs])[0] for c in cps},
                "regret_at_std": {str(c): mean_std([r["regret_at"][str(c)] for r in rs])[1] for c in cps},
                "test_at_mean": {str(c): mean_std([r["test_at"][str(c)] for r in rs])[0] for c in cps},
                "valid_regret_pp_mean": mean_std([r["valid_regret_pp"] for r in rs])[0],
                "test_pct_mean": mean_std([r["test_pct"] for r in rs])[0],
                "test_pct_std": mean_std([r["test_pct"] for r in rs])[1],
                "hit_fraction": sum(r["hit"] for r in rs) / len(rs),
                "ms_per_trial_mean": mean_std([r["ms_per_trial"] for r in rs])[0],
            }
            if m in OPTUNA_METHODS:
                props = sum(r["n_proposals"] for r in rs)
                sm.update(proposals_per_query=props / (budget * len(rs)),
                          failed_share_of_proposals=sum(r["n_failed"] for r in rs) / max(props, 1),
                          duplicate_share_of_proposals=sum(r["n_duplicates"] for r in rs) / max(props, 1),
                          fallback_share_of_queries=sum(r["n_fallbacks"] for r in rs) / (budget * len(rs)),
                          projected_share_of_queries=sum(r.get("n_projected_queries", 0) for r in rs) / (budget * len(rs)))
                if m == "optuna-tpe-nearest":
                    sm["projected_share_of_proposals"] = sum(r["n_projected"] for r in rs) / max(props, 1)
            if m == "portfolio":
                sm["shares"] = {a: float(np.mean([r["shares"][a] for r in rs])) for a in rs[0]["shares"]}
            summary[tname][m] = sm

        print()
        print(f"## {tname}: {n} architectures of {ti['parent_space']}, full fidelity ({ti['epochs']} epochs); best final valid "
              f"{ti['max_valid_pct']:.2f}% ({ti['n_at_max']} at it, {ti['n_within_pp']['0.5']} within 0.5 pp, "
              f"{ti['n_within_pp']['1.0']} within 1 pp; {ti['distinct_values']} distinct values); test of that architecture "
              f"{ti['test_of_best_valid_pct']:.2f}%, best test {ti['max_test_pct']:.2f}%; {len(seeds)} seeds, budget {budget}; "
              f"{elapsed:.1f} s")
        print("mean valid regret (pp) after n distinct queries; test % of the returned (incumbent) architecture at the budget")
        rows = []
        for m in methods:
            sm = summary[tname][m]
            rows.append([m, *(f"{sm['regret_at_mean'][str(c)]:.3f}" for c in cps),
                         pm(sm["test_pct_mean"], sm["test_pct_std"]), f"{sm['hit_fraction']:.2f}",
                         f"{sm['ms_per_trial_mean']:.1f}"])
        print(format_table(["method", *(f"n={c}" for c in cps), "test %", "hit", "ms/trial"], rows))
        opt_rows = [[m, f"{summary[tname][m]['proposals_per_query']:.2f}", f"{100 * summary[tname][m]['failed_share_of_proposals']:.1f}%",
                     f"{100 * summary[tname][m]['duplicate_share_of_proposals']:.1f}%",
                     f"{100 * summary[tname][m]['fallback_share_of_queries']:.1f}%",
                     f"{100 * summary[tname][m].get('projected_share_of_queries', 0.0):.1f}%",
                     f"{100 * summary[tname][m]['projected_share_of_proposals']:.1f}%" if m == "optuna-tpe-nearest" else "-"]
                    for m in methods if m in OPTUNA_METHODS]
        if opt_rows:
            print()
            print("Optuna's view of the table: proposals per query; shares of proposals that were no member (told FAIL) or a "
                  "seen architecture; share of queries answered by the fallback (an unseen member chosen by nasbook, not Optuna) "
                  "and by OptunaSampler's projection (the nearest unseen member of a non-member proposal); "
                  "nearest: share of proposals mapped to their nearest member")
            print(format_table(["method", "proposals/query", "no member", "seen", "fallback queries", "projected queries", "mapped"],
                               opt_rows))
        if "portfolio" in methods:
            sh = summary[tname]["portfolio"]["shares"]
            print()
            print("portfolio picks per arm (% of asks, mean over seeds): " + ", ".join(f"{a} {100 * v:.0f}" for a, v in sh.items()))

        # paired comparisons, checkpoint by checkpoint
        comp: dict[str, Any] = {}
        pairs = [("bo", r) for r in ("optuna-tpe", "evolution", "optuna-tpe-nearest") if r in methods and "bo" in methods]
        arms_run = [a for a in ARMS if a in methods]
        if "portfolio" in methods:
            pairs += [("portfolio", r) for r in ("optuna-tpe",) if r in methods]
        rows = []
        for c in cps:
            key = str(c)
            reg = {m: [r["regret_at"][key] for r in raw[tname][m]] for m in methods}
            cc: dict[str, Any] = {}
            for a, b in pairs:
                cc[f"{a} vs {b}"] = _paired(reg[a], reg[b])
            if "portfolio" in methods and arms_run:
                means = {a: float(np.mean(reg[a])) for a in arms_run}
                best_arm = min(arms_run, key=lambda a: means[a])
                worst_arm = max(arms_run, key=lambda a: means[a])
                cc["portfolio vs best arm"] = {**_paired(reg["portfolio"], reg[best_arm]), "arm": best_arm}
                cc["portfolio vs worst arm"] = {**_paired(reg["portfolio"], reg[worst_arm]), "arm": worst_arm}
            singles = [m for m in methods if m != "portfolio"]
            if singles:  # --methods portfolio alone (probes): nothing to rank
                best_single = min(singles, key=lambda m: float(np.mean(reg[m])))
                cc["best single method"] = {"method": best_single, "mean": float(np.mean(reg[best_single]))}
            comp[key] = cc
            for name, st in cc.items():
                if name == "best single method":
                    continue
                label = f"{name} ({st['arm']})" if "arm" in st else name
                rows.append([str(c), label, f"{st['mean_a']:.3f}", f"{st['mean_b']:.3f}", f"{st['mean_diff_pp']:+.3f}",
                             f"{st['lower']}/{st['higher']}/{st['tied']}", _fmt_p(st["wilcoxon_p"])])
        comparisons[tname] = comp
        if rows:
            print()
            print("paired by seed: mean valid regret (pp) of a and b, a - b, seeds where a is lower/higher/tied, two-sided Wilcoxon p")
            print(format_table(["n", "a vs b", "a", "b", "a - b", "lower/higher/tied", "p"], rows, align="rlrrrrr"))
        if any(m != "portfolio" for m in methods):
            print("best single method (lowest mean regret, Portfolio excluded): "
                  + ", ".join(f"n={c} {comp[str(c)]['best single method']['method']}" for c in cps))
        sys.stdout.flush()
    total_s = time.perf_counter() - t_all

    # pooled over tables (same seeds), at the checkpoints every table has
    pooled: dict[str, Any] = {}
    if len(tables) > 1:
        common = sorted(set.intersection(*(set(table_info[t]["checkpoints"]) for t in tables)))
        pairs = [(a, b) for a, b in (("bo", "optuna-tpe"), ("bo", "evolution"), ("portfolio", "bo"), ("portfolio", "optuna-tpe"))
                 if a in methods and b in methods]
        rows = []
        for c in common:
            for a, b in pairs:
                st = _paired([r["regret_at"][str(c)] for t in tables for r in raw[t][a]],
                             [r["regret_at"][str(c)] for t in tables for r in raw[t][b]])
                pooled.setdefault(str(c), {})[f"{a} vs {b}"] = st
                rows.append([str(c), f"{a} vs {b}", f"{st['mean_a']:.3f}", f"{st['mean_b']:.3f}", f"{st['mean_diff_pp']:+.3f}",
                             f"{st['lower']}/{st['higher']}/{st['tied']}", _fmt_p(st["wilcoxon_p"])])
        if rows:
            print()
            print(f"## pooled over {', '.join(tables)} ({len(tables) * len(seeds)} (table, seed) pairs): mean valid regret (pp)")
            print(format_table(["n", "a vs b", "a", "b", "a - b", "lower/higher/tied", "p"], rows, align="rlrrrrr"))

    print()
    print(f"# total {total_s:.1f} s")
    if args.json:
        write_json(args.json, {
            "benchmark": "strategies_tables",
            "metadata": meta,
            "config": {
                "tables": tables, "methods": methods, "seeds": seeds, "budget": args.budget, "checkpoints": args.checkpoints,
                "max_retries": args.max_retries, "optuna_project_unseen": project_unseen, "hit_tolerance": HIT_TOL,
                "task": "TABLES[t]() with its defaults: seed='mean' (mean of the table's training seeds); no fidelity asked, "
                        "so every value is the final epoch's val_accuracy",
                "strategies": {m: repr(nasbook.strategies.get_strategy(make_strategy(m, 0, args.max_retries)))
                               for m in methods if m not in OPTUNA_METHODS},
                "optuna": {"optuna-tpe": "OptunaSampler(TPESampler(seed=seed), max_retries) over the parent space's parameters; "
                                         "non-members told FAIL",
                           "optuna-tpe-nearest": "the same, non-members mapped to the nearest member (Hamming distance of "
                                                 "the parent's adjacency encoding)"},
                "portfolio_arms": list(ARMS),
            },
            "tables": table_info,
            "raw": raw,
            "summary": summary,
            "comparisons": comparisons,
            "pooled": pooled,
            "total_s": total_s,
        })
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
