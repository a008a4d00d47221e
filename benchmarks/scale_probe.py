"""A search of thousands of trials as a notebook user meets it: the loop, the displays, the store.

Each configuration runs in a fresh subprocess (so its peak RSS is its own), on a fresh SQLite file:

* ``random`` / ``evolution``: ``Search(NasBenchGraph("cora"), strategy=..., budget=N, seed=100,
  storage=FILE).run(progress="widget")`` (the notebook's live monitor, redrawn every 0.2 s; outside a
  kernel its ``display`` goes to a discarded stdout).
* ``asha``: ``ASHA(base="random", max_epochs=9)`` on ``ToyTask(CellSpace(), epochs=9)`` (an instant
  learning-curve task over a space too large to exhaust); ``asha-digits``: the same strategy on
  ``DigitsTable()`` (300 architectures: it runs until the table is exhausted).
* ``random-kb``: ``random`` with ``kb=KnowledgeBase(OTHER FILE)``: every trial mirrored into the kb.

Measured in the subprocess: the loop's ms per trial over the 100 trials that end at 100, 1,000,
2,000, 5,000 and 10,000 (a callback stamps each trial), the SQL statements per trial in the same
windows (SQLite's trace callback on the store's connections), then, on the finished search, every call a notebook
user makes (median of 3 calls, ms): ``repr``, ``_repr_mimebundle_`` (and its HTML's size), the live
monitor's redraw (widget and bar), ``search.trials``, ``search.best``, ``to_xarray()``,
``load_search``, a resume of 100 more trials, the ``nasbook.viz`` plots, ``nasbook list`` / ``show``
and a KnowledgeBase over the store (``searches``, ``trials()``, ``similar``, ``to_xarray``, its repr,
``Search(..., kb=kb, warm_start=True)``); the file's bytes per trial and the peak RSS.

Usage::

    python benchmarks/scale_probe.py --trials 2000 5000 10000 --json bench-results/scale.json
    python benchmarks/scale_probe.py --compare OLD.json NEW.json     # side by side

Pick the tree with ``PYTHONPATH`` (the subprocesses inherit it).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import describe_machine, describe_package, format_table, metadata, write_json

WINDOWS = (100, 1000, 2000, 5000, 10000)
SEED = 100


def _ms(fn: Any, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            fn()
        times.append(1e3 * (time.perf_counter() - t0))
    return statistics.median(times)


def _search(kind: str, n: int, path: str, kb: Any = None, warm_start: Any = None) -> Any:
    import nasbook

    if kind in ("random", "evolution", "random-kb"):
        from nasbook.tasks import NasBenchGraph

        strategy = "random" if kind == "random-kb" else kind
        return nasbook.Search(NasBenchGraph("cora"), strategy=strategy, budget=n, seed=SEED, storage=path,
                              name=f"scale-{kind}" + (f"-warm-{os.path.basename(path)}" if warm_start else ""), kb=kb, warm_start=warm_start)
    from nasbook.strategies import ASHA

    if kind == "asha":
        from nasbook.space import CellSpace
        from nasbook.testing import ToyTask

        space = CellSpace()
        return nasbook.Search(space, ToyTask(space, epochs=9), strategy=ASHA(base="random", max_epochs=9), budget=n,
                              seed=SEED, storage=path, name=f"scale-{kind}")
    from nasbook.tasks import DigitsTable

    return nasbook.Search(DigitsTable(), strategy=ASHA(base="random", max_epochs=9), budget=n, seed=SEED,
                          storage=path, name=f"scale-{kind}")


def one(kind: str, n: int) -> dict[str, Any]:
    """One configuration, in this process."""
    import warnings

    import nasbook
    import nasbook.viz as viz
    from nasbook import cli
    from nasbook.display._monitor import BarProgress, WidgetProgress

    warnings.simplefilter("ignore")
    tmp = tempfile.mkdtemp(prefix="nasbook-scale-")
    path = os.path.join(tmp, "scale.db")
    kb = nasbook.KnowledgeBase(os.path.join(tmp, "kb.db")) if kind == "random-kb" else None
    # untimed warm-up: imports, table load, plot libraries
    warm = _search(kind, 30, os.path.join(tmp, "warm.db")).run(progress="none")
    with contextlib.redirect_stdout(io.StringIO()):
        warm._repr_mimebundle_()
        viz.plot_history(warm)
        viz.plot_op_frequency(warm)
    search = _search(kind, n, path, kb=kb)
    stamps: list[float] = []
    queries = [0]
    counts: list[int] = []

    def count(*_: Any) -> None:
        queries[0] += 1

    # every statement on the store's connections: SQLAlchemy's and the raw SQLite hot path's
    for st in [search.storage] + ([kb.storage] if kb is not None else []):
        st.conn.connection.dbapi_connection.set_trace_callback(count)

    def stamp(_s: Any, _t: Any) -> None:
        stamps.append(time.perf_counter())
        counts.append(queries[0])

    search.callbacks.append(stamp)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        search.run(progress="widget")
    total = time.perf_counter() - t0
    stamps.insert(0, t0)
    counts.insert(0, 0)
    done = len(stamps) - 1
    out: dict[str, Any] = {"kind": kind, "n": n, "trials": search.n_trials, "run_s": total,
                           "ms_per_trial_mean": 1e3 * total / max(done, 1)}
    windows = {}
    for w in WINDOWS:
        if w <= done:
            windows[str(w)] = {"ms": 1e3 * (stamps[w] - stamps[w - 100]) / 100,
                               "queries": (counts[w] - counts[w - 100]) / 100}
    out["windows"] = windows
    search.storage.conn.connection.dbapi_connection.set_trace_callback(None)

    calls: dict[str, float] = {}
    calls["repr"] = _ms(lambda: repr(search))
    calls["_repr_mimebundle_"] = _ms(search._repr_mimebundle_)
    out["html_bytes"] = len(search._repr_mimebundle_()["text/html"].encode())
    with contextlib.redirect_stdout(io.StringIO()):
        widget = WidgetProgress(search)
    calls["monitor widget refresh"] = _ms(widget.refresh)
    widget.box.close()
    bar = BarProgress(search)
    bar.bar.disable = True
    calls["monitor bar refresh"] = _ms(bar.refresh)
    calls["search.trials"] = _ms(lambda: search.trials)
    calls["search.best"] = _ms(lambda: search.best)
    calls["to_xarray()"] = _ms(search.to_xarray)
    calls["viz.plot_history"] = _ms(lambda: viz.plot_history(search))
    calls["viz.plot_op_frequency"] = _ms(lambda: viz.plot_op_frequency(search))
    tradeoff_x = "epochs" if kind.startswith("asha") else "params_m"
    calls["viz.plot_tradeoff"] = _ms(lambda: viz.plot_tradeoff(search, x=tradeoff_x))
    if kind.startswith("asha"):
        calls["viz.plot_curves"] = _ms(lambda: viz.plot_curves(search))
    search.storage.close()
    calls["cli list"] = _ms(lambda: cli.main(["list", "--storage", path]))
    calls["cli show"] = _ms(lambda: cli.main(["show", search.name, "--storage", path]))
    task = {"task": search.task} if kind == "asha" else {}  # a ToyTask is not rebuilt from the store
    calls["load_search"] = _ms(lambda: nasbook.load_search(search.name, path, **task).storage.close())
    loaded = nasbook.load_search(search.name, path, budget=search.n_trials + 100, **task)
    t0 = time.perf_counter()
    loaded.run(progress="none")
    calls["resume +100 trials (load excluded)"] = 1e3 * (time.perf_counter() - t0)
    out["resumed_trials"] = loaded.n_trials
    loaded.storage.close()
    kbq = nasbook.KnowledgeBase(path) if kb is None else kb
    calls["kb.searches"] = _ms(lambda: kbq.searches)
    calls["kb.trials()"] = _ms(kbq.trials)
    calls["kb.to_xarray()"] = _ms(kbq.to_xarray)
    calls["repr(kb)"] = _ms(lambda: repr(kbq))
    calls["kb._repr_mimebundle_"] = _ms(kbq._repr_mimebundle_)
    arch = search.best.arch
    calls["kb.similar(best, 10)"] = _ms(lambda: kbq.similar(arch, 10))
    if not kind.startswith("asha"):
        calls["Search(kb=kb, warm_start=True)"] = _ms(
            lambda: _search("random", 10, tempfile.mktemp(suffix=".db", dir=tmp), kb=kbq, warm_start=True).storage.close())
    out["calls_ms"] = calls
    out["file_bytes"] = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp) if f.startswith("scale.db"))
    out["bytes_per_trial"] = out["file_bytes"] / max(loaded.n_trials, 1)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["nasbook"] = nasbook.__file__
    return out


def _table(results: list[dict[str, Any]], label: str = "") -> str:
    lines = []
    heads = ["config", "N", "trials", "run s"] + [f"ms/trial @{w}" for w in WINDOWS] + ["SQL/trial @100", "SQL/trial @last"]
    rows = []
    for r in results:
        w = r["windows"]
        last = w[max(w, key=int)] if w else {}
        rows.append([r["kind"], r["n"], r["trials"], f"{r['run_s']:.2f}"]
                    + [f"{w[str(k)]['ms']:.3f}" if str(k) in w else "" for k in WINDOWS]
                    + [f"{w['100']['queries']:.1f}" if "100" in w else "", f"{last.get('queries', float('nan')):.1f}"])
    lines.append(f"## {label}loop: ms per trial over the 100 trials ending at k; SQL statements per trial")
    lines.append(format_table(heads, rows))
    names = list(dict.fromkeys(k for r in results for k in r["calls_ms"]))
    heads = ["call (ms, median of 3)"] + [f"{r['kind']} {r['trials']}" for r in results]
    rows = [[name] + [f"{r['calls_ms'].get(name, float('nan')):.1f}" for r in results] for name in names]
    rows.append(["HTML repr bytes"] + [str(r["html_bytes"]) for r in results])
    rows.append(["file bytes per trial"] + [f"{r['bytes_per_trial']:.0f}" for r in results])
    rows.append(["peak RSS MB"] + [f"{r['peak_rss_mb']:.0f}" for r in results])
    lines.append(f"\n## {label}what a notebook user calls on the finished search")
    lines.append(format_table(heads, rows))
    return "\n".join(lines)


def compare(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Side by side: old -> new for every figure of the two runs."""
    lines = [f"old: {describe_package(old['meta'])}", f"new: {describe_package(new['meta'])}"]
    by = {(r["kind"], r["n"]): r for r in old["results"]}
    heads = ["config", "N"] + [f"ms/trial @{w} old -> new" for w in WINDOWS]
    rows = []
    pairs = [(by[(r["kind"], r["n"])], r) for r in new["results"] if (r["kind"], r["n"]) in by]
    for o, r in pairs:
        rows.append([r["kind"], r["n"]] + [
            f"{o['windows'][str(k)]['ms']:.3f} -> {r['windows'][str(k)]['ms']:.3f}" if str(k) in r["windows"] and str(k) in o["windows"] else ""
            for k in WINDOWS])
    lines.append("\n## loop: ms per trial (100 trials ending at k), old -> new")
    lines.append(format_table(heads, rows))
    heads = ["config", "N"] + [f"SQL/trial @{w} old -> new" for w in WINDOWS]
    rows = [[r["kind"], r["n"]] + [
        f"{o['windows'][str(k)]['queries']:.1f} -> {r['windows'][str(k)]['queries']:.1f}"
        if str(k) in r["windows"] and str(k) in o["windows"] else "" for k in WINDOWS] for o, r in pairs]
    lines.append("\n## loop: SQL statements per trial, old -> new")
    lines.append(format_table(heads, rows))
    names = list(dict.fromkeys(k for _, r in pairs for k in r["calls_ms"]))
    for o, r in pairs:
        lines.append(f"\n## {r['kind']}, {r['trials']} trials: what a notebook user calls (ms, median of 3), old -> new")
        rows = [[name, f"{o['calls_ms'].get(name, float('nan')):.1f}", f"{r['calls_ms'].get(name, float('nan')):.1f}"]
                for name in names if name in r["calls_ms"]]
        rows.append(["HTML repr bytes", o["html_bytes"], r["html_bytes"]])
        rows.append(["file bytes per trial", f"{o['bytes_per_trial']:.0f}", f"{r['bytes_per_trial']:.0f}"])
        rows.append(["peak RSS MB", f"{o['peak_rss_mb']:.0f}", f"{r['peak_rss_mb']:.0f}"])
        rows.append(["whole run s", f"{o['run_s']:.2f}", f"{r['run_s']:.2f}"])
        lines.append(format_table(["call", "old", "new"], rows))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, nargs="+", default=[2000, 5000, 10000])
    ap.add_argument("--kinds", nargs="+", default=["random", "evolution", "asha", "asha-digits", "random-kb"])
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--one", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--compare", nargs=2, metavar=("OLD", "NEW"), help="print two JSON results side by side")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]))))
        return
    if args.compare:
        print(compare(*(json.loads(Path(p).read_text()) for p in args.compare)))
        return
    meta = metadata()
    print(describe_package(meta) + "; " + describe_machine(meta), flush=True)
    results = []
    for kind in args.kinds:
        for n in ([2000] if kind == "asha-digits" else args.trials):
            t0 = time.perf_counter()
            proc = subprocess.run([sys.executable, __file__, "--one", kind, str(n)], capture_output=True, text=True)
            if proc.returncode:
                print(f"{kind} {n}: FAILED\n{proc.stderr[-3000:]}", flush=True)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results.append(r)
            print(f"{kind} {n}: {r['trials']} trials, run {r['run_s']:.2f} s, whole config {time.perf_counter() - t0:.0f} s",
                  flush=True)
    print(_table(results))
    if args.json:
        write_json(args.json, {"meta": meta, "results": results})


if __name__ == "__main__":
    main()
