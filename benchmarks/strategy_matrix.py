"""Audit matrix: every built-in strategy x task x executor x (run to budget, interrupted and resumed).

    python benchmarks/strategy_matrix.py [--tasks nbg,curve,digits,mnist1d] [--executors local,dask]
        [--modes run,kbint,stop,bgstop,swap] [--strategies random,...] [--kb] [--wrappers] [--json bench-results/matrix.json]

Strategies: every name of ``nasbook.strategies``' registry (``available_strategies()``), made small
for tiny budgets (a population of 3, 3 initial trials, ``max_epochs`` = the task's). Tasks: ``nbg``
= ``NasBenchGraph("cora")`` (final scores only), ``curve`` = ``DigitsTable()`` (learning curves, 9
epochs), ``digits`` = ``Digits(max_epochs=2)`` trained on a small ``CellSpace``, ``mnist1d`` =
``MNIST1D(max_epochs=2)`` trained on a small ``ConvDenseSpace``. Executors: ``"local"`` and
``DaskExecutor(n_workers=2)``. Budget 6 trials, seed 100 (a probe seed).

Modes (each cell runs in its own store):

- ``run``: ``Search(...).run()`` to the budget. Checked: the search ends ``done``; no more trials than
  the budget; no trial left RUNNING/QUEUED; ``load_search`` reads back the same trials.
- ``kbint``: a callback raises ``KeyboardInterrupt`` after the 2nd committed trial, then
  ``load_search(name, storage, executor=...).run()``; the result must equal the ``run`` cell's
  trials (number, architecture, state, value, epochs, parent) where that is deterministic: every
  strategy on ``local``, the non-adaptive ``random`` on dask (adaptive strategies on dask ask on
  whichever results have arrived, so two fresh runs may differ: ``differs (dask)``, not a defect).
- ``stop``: a callback calls ``search.stop()`` after the 2nd trial of ``search.run()``, then
  ``load_search(...).run()``; compared as ``kbint``.
- ``swap`` (not in the default modes): a stored random search of 2 trials is resumed with
  ``load_search(name, storage, strategy=X, budget=6)``; where ``Search(strategy=X)`` refuses X,
  ``load_search`` must refuse it as well, before storing it, and the search must still resume plainly.
- ``bgstop``: as ``stop``, but the search runs in the background (``search.start()``, then
  ``search.wait()``).

``--kb``: a few cells more with a KnowledgeBase: a past random search of 6 trials is recorded, then the
strategy runs with ``kb=kb, warm_start=3`` (on a copy of that knowledge base per run), to the budget
and interrupted + resumed with ``load_search(name, kb=kb)``.

A cell is ``ok``, ``refused`` (an InvalidParameterError naming the parameter, raised by ``Search(...)``
before anything is stored) or a defect: ``ERROR`` (a traceback), ``HANG`` (over the cell's time limit),
``STATE`` (wrong stored state), ``RESUME`` (resume differs where it should not), ``BUDGET`` (more trials
than the budget), ``NOISY`` (output on stdout/stderr with progress off), ``UNCLEAR`` (a refusal that
does not name the parameter, or stored something). Output is captured at the file-descriptor level,
so a worker process's lines count too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from typing import Any

N_TRIALS = 6
CUT = 2  # interrupt after this many committed trials
SEED = 100
LIMITS = {"nbg": 120, "curve": 120, "digits": 300, "mnist1d": 300}
KB_STRATEGIES = ["random", "evolution", "bo", "portfolio", "asha"]
WRAPPERS = ["asha(base=bo)", "asha(base=evolution)", "hyperband(base=optuna)", "sh(base=local)", "median-stopping(base=portfolio)",
            "curve-stopping(base=bo)", "fingerprint-stopping(base=asha)", "curve-stopping(base=asha)",
            "portfolio(evolution+bo+optuna)"]


class CellTimeout(BaseException):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise CellTimeout


def make_task(kind: str) -> tuple[Any, Any]:
    from nasbook.space import CellSpace, ConvDenseSpace
    from nasbook.tasks import MNIST1D, Digits, DigitsTable, NasBenchGraph

    if kind == "nbg":
        return None, NasBenchGraph("cora")
    if kind == "curve":
        return None, DigitsTable()
    if kind == "digits":
        return CellSpace(channels=4, n_cells=1, n_stages=1), Digits(max_epochs=2, batch_size=64)
    return ConvDenseSpace(max_conv=2, max_dense=1, conv_widths=(4, 8), dense_widths=(16,)), MNIST1D(max_epochs=2, batch_size=64)


def make_strategy(name: str, task: Any) -> Any:
    """The registry's strategy, small enough for a budget of 6 trials. A task without epochs gets the
    plain name, as a user would pass it (so the refusal is that of ``strategy="asha"``); a composition
    (``--wrappers``) is always an instance."""
    from nasbook import strategies as st

    if not task.has_epochs and "(" not in name:
        return "growth" if name == "growth-no-train-more" else name
    top = int(task.max_epochs) if task.has_epochs else 9  # a composition on a table of final scores: refused
    small: dict[str, Any] = {
        "evolution": lambda: st.RegularizedEvolution(population_size=3, sample_size=2),
        "local": lambda: st.LocalSearch(n_initial=3),
        "bo": lambda: st.BO(n_initial=3),
        "asha": lambda: st.ASHA(max_epochs=top),
        "sh": lambda: st.SuccessiveHalving(max_epochs=top),
        "hyperband": lambda: st.Hyperband(max_epochs=top),
        "median-stopping": lambda: st.MedianStopping(min_trials=2),
        "curve-stopping": lambda: st.CurveStopping(max_epochs=top),
        "growth": lambda: st.Growth(population_size=3, sample_size=2),
        # compositions (--wrappers): a scheduler or stopping rule over a proposing strategy
        "asha(base=bo)": lambda: st.ASHA(base=st.BO(n_initial=3), max_epochs=top),
        "asha(base=evolution)": lambda: st.ASHA(base=st.RegularizedEvolution(population_size=3, sample_size=2), max_epochs=top),
        "hyperband(base=optuna)": lambda: st.Hyperband(base="optuna", max_epochs=top),
        "sh(base=local)": lambda: st.SuccessiveHalving(base=st.LocalSearch(n_initial=3), max_epochs=top),
        "median-stopping(base=portfolio)": lambda: st.MedianStopping(base=st.Portfolio(), min_trials=2),
        "curve-stopping(base=bo)": lambda: st.CurveStopping(base=st.BO(n_initial=3), max_epochs=top),
        "fingerprint-stopping(base=asha)": lambda: st.FingerprintStopping(base=st.ASHA(max_epochs=top)),
        "curve-stopping(base=asha)": lambda: st.CurveStopping(base=st.ASHA(max_epochs=top), max_epochs=top),
        "portfolio(evolution+bo+optuna)": lambda: st.Portfolio(["evolution", "bo", "optuna"]),
        # what the refusal of Growth() on a table says to pass
        "growth-no-train-more": lambda: st.Growth(population_size=3, sample_size=2, train_more=False),
    }
    return small[name]() if name in small else name


def make_executor(kind: str) -> Any:
    if kind == "dask":
        from nasbook.executors import DaskExecutor

        return DaskExecutor(n_workers=2)
    return "local"


def sig(search: Any) -> list[tuple[Any, ...]]:
    return [(t.number, t.arch.id, t.state.value, t.value, t.epochs, t.parent) for t in sorted(search.trials, key=lambda t: t.number)]


@contextlib.contextmanager
def captured(out: list[str]):
    """Collect every line written to fd 1 and 2 (this process and its children) into ``out``."""
    sys.stdout.flush()
    sys.stderr.flush()
    tmp = tempfile.TemporaryFile(mode="w+b")
    saved = os.dup(1), os.dup(2)
    os.dup2(tmp.fileno(), 1)
    os.dup2(tmp.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        tmp.seek(0)
        out.extend(line for line in tmp.read().decode("utf-8", "replace").splitlines() if line.strip())
        tmp.close()


class Cut:
    """After the CUT-th committed trial: raise KeyboardInterrupt, or call search.stop()."""

    def __init__(self, how: str):
        self.how, self.n = how, 0

    def __call__(self, search: Any, trial: Any) -> None:
        self.n += 1
        if self.n == CUT:
            if self.how == "kbint":
                raise KeyboardInterrupt
            search.stop()


def stored_problems(search: Any, db: str, budget: int, kb: Any = None) -> list[str]:
    import nasbook

    bad = []
    loaded = nasbook.load_search(search.name, db, kb=kb)  # a BO with a transfer prior needs its kb
    if loaded.state.value != "done":
        bad.append(f"STATE: stored state {loaded.state.value!r} after run()")
    left = [t.number for t in loaded.trials if t.state.value in ("running", "queued")]
    if left:
        bad.append(f"STATE: trials {left} left running/queued")
    if len(loaded.trials) > budget:
        bad.append(f"BUDGET: {len(loaded.trials)} trials > {budget}")
    if sig(loaded) != sig(search):
        bad.append("STATE: load_search reads other trials than the run kept in memory")
    return bad


def run_cell(strategy: str, task_kind: str, executor: str, mode: str, tmp: str, refs: dict[Any, Any],
             kb_src: str | None = None) -> dict[str, Any]:
    import nasbook
    space, task = make_task(task_kind)
    key = (strategy, task_kind, executor, kb_src is not None)
    name = f"{strategy}-{task_kind}-{executor}-{mode}" + ("-kb" if kb_src else "")
    db = os.path.join(tmp, name + ".db")
    kb = None
    if kb_src is not None:
        shutil.copy(kb_src, db)
        kb = nasbook.KnowledgeBase(db)
    lines: list[str] = []
    problems: list[str] = []
    status = "ok"
    info = ""
    t0 = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMITS[task_kind])
    search = None
    try:
        with captured(lines), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            extra: dict[str, Any] = {"kb": kb, "warm_start": 3} if kb is not None else {"storage": db}
            args = (task,) if space is None else (space, task)
            cbs = [Cut(mode)] if mode != "run" else None
            try:
                search = nasbook.Search(*args, strategy=make_strategy(strategy, task), budget=N_TRIALS, seed=SEED, name=name,
                                        executor=make_executor(executor), callbacks=cbs, **extra)
            except nasbook.InvalidParameterError as exc:
                msg = str(exc)
                status = "refused"
                info = msg
                store = db if os.path.exists(db) else None
                if store is not None and kb is None:
                    from nasbook.storage import Storage as _Storage

                    st = _Storage(db)
                    if st.list_searches():
                        problems.append("UNCLEAR: refused but stored a search")
                    st.close()
                if "strateg" not in msg.lower() and "=" not in msg:
                    problems.append("UNCLEAR: refusal names no parameter")
                search = None
            if search is not None:
                if mode == "run":
                    search.run(progress="none")
                    search.close()
                    problems += stored_problems(search, db, N_TRIALS, kb)
                    refs[key] = sig(search)
                    info = f"{len(search.trials)} trials, best {search.best.value:.4g}" if search.best else "no best"
                else:
                    if mode == "kbint":
                        try:
                            search.run(progress="none")
                            problems.append("STATE: KeyboardInterrupt from a callback did not reach the caller")
                        except KeyboardInterrupt:
                            pass
                    elif mode == "stop":
                        search.run(progress="none")
                    else:
                        search.start(progress="none")
                        search.wait()
                    search.close()
                    mid = nasbook.load_search(name, db, kb=kb)
                    n_mid = len(mid.trials)
                    if mid.state.value != "interrupted":
                        problems.append(f"STATE: stored state {mid.state.value!r} after the interrupt")
                    kw: dict[str, Any] = {"kb": kb} if kb is not None else {}
                    if executor == "dask":
                        kw["executor"] = make_executor("dask")
                    resumed = nasbook.load_search(name, db, **kw)
                    resumed.run(progress="none")
                    resumed.close()
                    problems += stored_problems(resumed, db, N_TRIALS, kb)
                    ref = refs.get(key)
                    same = None if ref is None else sig(resumed) == ref
                    info = f"{n_mid} trials at the cut, {len(resumed.trials)} after resume; equal to run: {same}"
                    if same is False:
                        if executor == "dask" and strategy != "random":
                            info += " (differs (dask): adaptive on 2 workers)"
                        else:
                            problems.append("RESUME: resumed search differs from the uninterrupted one")
            for w in caught:
                lines.append(f"warning: {w.category.__name__}: {str(w.message)[:200]}")
    except CellTimeout:
        problems.append(f"HANG: over {LIMITS[task_kind]} s")
    except BaseException as exc:  # noqa: BLE001 - the matrix records it
        tb = traceback.format_exc()
        problems.append(f"ERROR: {type(exc).__name__}: {str(exc)[:300]}")
        info = tb[-1500:]
    finally:
        signal.alarm(0)
        with contextlib.suppress(BaseException):
            if search is not None:
                search.close()
        if kb is not None:
            with contextlib.suppress(BaseException):
                kb.close()
    noisy = [ln for ln in lines if not ln.startswith("warning: ")]
    warned = [ln for ln in lines if ln.startswith("warning: ")]
    if noisy:
        problems.append(f"NOISY: {len(noisy)} lines, first: {noisy[0][:160]}")
    if problems:
        status = problems[0].split(":")[0]
    return {"strategy": strategy, "task": task_kind, "executor": executor, "mode": mode, "kb": kb_src is not None,
            "status": status, "problems": problems, "info": info[:2000], "warnings": warned[:5],
            "seconds": round(time.time() - t0, 1)}


def swap_cell(strategy: str, task_kind: str, executor: str, tmp: str) -> dict[str, Any]:
    """Mode ``swap``: a stored random search of CUT trials, resumed with ``load_search(name, storage,
    strategy=X, budget=6)``. Where ``Search(strategy=X)`` refuses X, ``load_search`` must refuse it too,
    before storing it (the search then still loads and resumes as random); elsewhere it runs to the budget."""
    import nasbook
    from nasbook.strategies import BaseStrategy, strategy_class

    space, task = make_task(task_kind)
    args = (task,) if space is None else (space, task)
    name = f"{strategy}-{task_kind}-{executor}-swap"
    db = os.path.join(tmp, name + ".db")
    problems: list[str] = []
    status, info, lines = "ok", "", []
    t0 = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMITS[task_kind])

    def made() -> Any:
        st = make_strategy(strategy, task)
        return st if isinstance(st, BaseStrategy) else strategy_class(st)()

    try:
        with captured(lines), warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                nasbook.Search(*args, strategy=made(), budget=N_TRIALS, seed=SEED, storage=":memory:")
                search_refuses = False
            except nasbook.InvalidParameterError:
                search_refuses = True
            first = nasbook.Search(*args, strategy="random", budget=CUT, seed=SEED, storage=db, name=name,
                                   executor=make_executor(executor))
            first.run(progress="none")
            first.close()
            kw = {"executor": make_executor("dask")} if executor == "dask" else {}
            try:
                swapped = nasbook.load_search(name, db, strategy=made(), budget=N_TRIALS, **kw)
            except nasbook.InvalidParameterError as exc:
                status, info = "refused", str(exc)
                if not search_refuses:
                    problems.append("UNCLEAR: load_search refuses a strategy that Search() accepts")
                again = nasbook.load_search(name, db, budget=N_TRIALS, **kw)
                if type(again.strategy).__name__ != "RandomSearch":
                    problems.append(f"STATE: the refused strategy was stored ({type(again.strategy).__name__})")
                again.run(progress="none")
                again.close()
            else:
                try:
                    swapped.run(progress="none")
                    info = f"{len(swapped.trials)} trials after the swap"
                    if search_refuses:
                        problems.append("STATE: load_search accepted a strategy that Search() refuses (it ran)")
                except nasbook.InvalidParameterError as exc:
                    problems.append(f"STATE: load_search accepted a strategy that Search() refuses; run() failed: {str(exc)[:160]}")
                    try:
                        nasbook.load_search(name, db, **kw).run(progress="none")
                    except nasbook.InvalidParameterError:
                        problems.append("STATE: the plain resume (load_search(name, storage).run()) fails too")
                finally:
                    swapped.close()
    except CellTimeout:
        problems.append(f"HANG: over {LIMITS[task_kind]} s")
    except BaseException as exc:  # noqa: BLE001 - the matrix records it
        problems.append(f"ERROR: {type(exc).__name__}: {str(exc)[:300]}")
        info = traceback.format_exc()[-1500:]
    finally:
        signal.alarm(0)
    noisy = [ln for ln in lines if ln.strip()]
    if noisy:
        problems.append(f"NOISY: {len(noisy)} lines, first: {noisy[0][:160]}")
    if problems:
        status = problems[0].split(":")[0]
    return {"strategy": strategy, "task": task_kind, "executor": executor, "mode": "swap", "kb": False,
            "status": status, "problems": problems, "info": info[:2000], "warnings": [], "seconds": round(time.time() - t0, 1)}


def past_kb(task_kind: str, tmp: str) -> str:
    """A knowledge base holding one past random search of 6 trials on the task."""
    import nasbook

    path = os.path.join(tmp, f"kb-{task_kind}.db")
    kb = nasbook.KnowledgeBase(path)
    space, task = make_task(task_kind)
    args = (task,) if space is None else (space, task)
    nasbook.Search(*args, strategy="random", budget=N_TRIALS, seed=SEED + 1, kb=kb, name="past").run(progress="none")
    kb.close()
    return path


def main() -> None:
    from nasbook.strategies import available_strategies

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    names = [*available_strategies(), "growth-no-train-more"]
    ap.add_argument("--strategies", default=",".join(names))
    ap.add_argument("--tasks", default="nbg,curve,digits,mnist1d")
    ap.add_argument("--executors", default="local,dask")
    ap.add_argument("--modes", default="run,kbint,stop,bgstop")
    ap.add_argument("--kb", action="store_true", help="the knowledge-base cells (local executor) only")
    ap.add_argument("--wrappers", action="store_true", help="compositions (a scheduler or stopping rule over another strategy)")
    ap.add_argument("--json", default=None)
    ap.add_argument("--table", nargs="+", default=None, metavar="JSON", help="print one matrix of these runs' JSON files; run nothing")
    args = ap.parse_args()
    if args.table:
        merged: list[dict[str, Any]] = []
        for path in args.table:
            with open(path) as f:
                merged += json.load(f)
        table(merged)
        return
    if args.wrappers:
        args.strategies = ",".join(WRAPPERS)
    tmp = tempfile.mkdtemp(prefix="strategy-matrix-")
    rows: list[dict[str, Any]] = []
    refs: dict[Any, Any] = {}
    modes = args.modes.split(",")
    t_all = time.time()
    for task_kind in args.tasks.split(","):
        kb_src = past_kb(task_kind, tmp) if args.kb else None
        for executor in (["local"] if args.kb else args.executors.split(",")):
            for strategy in (KB_STRATEGIES if args.kb else args.strategies.split(",")):
                for mode in modes:
                    if mode not in ("run", "swap") and (strategy, task_kind, executor, args.kb) not in refs and "run" in modes:
                        if rows and rows[-1]["status"] == "refused":  # refused at run: the same refusal
                            continue
                    if mode == "swap":
                        row = swap_cell(strategy, task_kind, executor, tmp)
                    else:
                        row = run_cell(strategy, task_kind, executor, mode, tmp, refs, kb_src)
                    rows.append(row)
                    print(f"{task_kind:8s} {executor:6s} {strategy:21s} {mode:6s} {'kb ' if row['kb'] else ''}{row['status']:8s} "
                          f"{row['seconds']:6.1f}s  {'; '.join(row['problems'])[:300] or row['info'][:200]}", flush=True)
    print(f"\n{len(rows)} cells in {time.time() - t_all:.0f} s")
    table(rows, modes)
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)


def table(rows: list[dict[str, Any]], modes: list[str] | None = None) -> None:
    """A markdown matrix: one row per (strategy, kb), one column per (task, executor); a cell says
    ``ok`` and the modes when every mode is ok, ``refused`` when Search() refused, else each mode's status."""
    cols = sorted({(r["task"], r["executor"]) for r in rows}, key=lambda c: (["nbg", "curve", "digits", "mnist1d"].index(c[0]), c[1]))
    strat = list(dict.fromkeys((r["strategy"], r["kb"]) for r in rows))
    print("| strategy | " + " | ".join(f"{t} / {e}" for t, e in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for s, kb in strat:
        cells = []
        for t, e in cols:
            got = [r for r in rows if (r["strategy"], r["kb"], r["task"], r["executor"]) == (s, kb, t, e)]
            if not got:
                cells.append("")
            elif all(r["status"] == "refused" for r in got):
                cells.append("refused")
            elif all(r["status"] == "ok" for r in got):
                cells.append("ok (" + "/".join(r["mode"] for r in got) + ")")
            else:
                cells.append(", ".join(f"{r['mode']}: {r['status']}" for r in got))
        print(f"| {s}{' (kb, warm_start=3)' if kb else ''} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
