"""Training overhead: a Lightning trial vs a hand-written torch loop, and the dask executor's cost.

Three measurements, each side by side in one process and interleaved repeat by repeat:

1. **Lightning trial vs hand loop** (goal: ratio <= 1.25). One fixed ``CellSpace()``
   architecture (``space.sample(default_rng(0))``) on ``Digits``, ``--epochs`` epochs, batch 64,
   Adam lr 1e-3, one torch thread. Variants:

   * ``trial``: ``Digits(max_epochs=E).evaluate(arch, space=space)``, the whole trial path
     (network build, FLOP profile, health checks, curves, test pass, checkpoint bytes);
   * ``trial-nohealth``: the same with ``Digits(..., health=False)``;
   * ``train``: ``nasbook.training.train(net, dm, max_epochs=E, health=True, test=False)``;
   * ``train-nohealth``: the same with ``health=False``;
   * ``hand``: a plain torch loop doing the same work on the same ``DataLoader`` s: every epoch a
     shuffled training pass (Adam step per batch, epoch-mean loss) and a validation pass (loss and
     accuracy), one float of each per epoch, the network built exactly as the trial builds it.

   The data module is loaded once and shared (one task object per variant, warmed up once); the
   ratio is each variant's median wall time over the hand loop's median. CPU seconds of the
   process are reported too: they are less disturbed by other jobs than wall time.

2. **Dask executor overhead per trial** (goal: <= 15 ms). ``--trials`` instant trials
   (``nasbook.testing.ToyTask(space)``) through ``nasbook.Search(space, task, strategy="random",
   storage=":memory:")`` with a warm ``DaskExecutor(n_workers=2)`` (started and used once before
   timing) vs ``executor="local"``; overhead = (dask - local) / trials. The raw dask round trip
   ``client.submit(f).result()`` on the same cluster is given for reference.

3. **Two workers vs one** (goal: >= 1.7x on free cores). The same ``--k`` trainings
   (``Digits(max_epochs=--k-epochs)``, ``strategy="random"`` with a fixed seed) through ``Search``
   on a warm ``DaskExecutor(n_workers=1)`` and a warm ``DaskExecutor(n_workers=2)`` (Lightning
   imported on every worker and one untimed search run first). Trials per minute and the speed-up.
   Judged on networks of equal cost (the same model, as the goal asks: ``CellSpace`` cells with
   two 3x3 convolutions and skip connections elsewhere, 15 of them, equal parameters and FLOPs),
   so the figure is the executor's parallel efficiency; **3r** repeats it on random cells of
   different sizes and reports (does not judge) the speed-up a user sees when the last trials of a
   search leave one worker idle.

Load: every measured block records the load average, the busy share of every core over the block
(``psutil``), and how much of that busy time was this benchmark's own process tree (its dask
workers included), so that "others" = what the rest of the machine used. On a shared machine
the goals are judged on these figures as they are; nothing is retried until it passes.

Usage::

    python benchmarks/training_overhead.py --json bench-results/training_overhead.json
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import psutil
from _common import describe_machine, describe_package, format_table, median, metadata, write_json

GOAL_TRIAL_RATIO = 1.25
GOAL_DASK_MS = 15.0
GOAL_SPEEDUP = 1.7
LR = 1e-3
BATCH = 64
SEED = 0


# -- load monitoring -------------------------------------------------------------------------------------
def _tree_cpu_s() -> float:
    """CPU seconds (user + system) of this process and its live descendants (dask workers)."""
    me = psutil.Process()
    total = 0.0
    for p in [me, *me.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def _busy(t: Any) -> float:
    return float(t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0))


def _total(t: Any) -> float:
    return _busy(t) + float(t.idle + getattr(t, "iowait", 0.0))


class LoadMonitor:
    """Per-core busy % over a block (and 1 s samples of it), own-tree vs others' CPU, load average."""

    def __init__(self, sample_s: float = 1.0):
        self.sample_s = sample_s
        self.result: dict[str, Any] = {}

    def __enter__(self) -> LoadMonitor:
        self._samples: list[list[float]] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._cores0 = psutil.cpu_times(percpu=True)
        self._tree0 = _tree_cpu_s()
        self._load0 = os.getloadavg()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        prev = psutil.cpu_times(percpu=True)
        while not self._stop.wait(self.sample_s):
            now = psutil.cpu_times(percpu=True)
            row = []
            for a, b in zip(prev, now):
                dt = _total(b) - _total(a)
                row.append(100.0 * (_busy(b) - _busy(a)) / dt if dt > 0 else 0.0)
            self._samples.append(row)
            prev = now

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        wall = time.perf_counter() - self._t0
        cores1 = psutil.cpu_times(percpu=True)
        tree = _tree_cpu_s() - self._tree0
        per_core, busy_s = [], 0.0
        for a, b in zip(self._cores0, cores1):
            dt = _total(b) - _total(a)
            db = _busy(b) - _busy(a)
            busy_s += db
            per_core.append(round(100.0 * db / dt, 1) if dt > 0 else 0.0)
        n = len(per_core)
        self.result = {
            "wall_s": wall,
            "loadavg_start": [round(x, 2) for x in self._load0],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "core_busy_pct": per_core,
            "core_busy_pct_samples_min": [round(min(s[i] for s in self._samples), 1) for i in range(n)] if self._samples else None,
            "core_busy_pct_samples_max": [round(max(s[i] for s in self._samples), 1) for i in range(n)] if self._samples else None,
            "busy_cores": round(busy_s / wall, 2) if wall > 0 else None,
            "own_cores": round(tree / wall, 2) if wall > 0 else None,
            "others_cores": round(max(0.0, busy_s - tree) / wall, 2) if wall > 0 else None,
        }


def describe_load(r: dict[str, Any]) -> str:
    cores = "/".join(f"{x:.0f}" for x in r["core_busy_pct"])
    return (
        f"load avg {r['loadavg_start'][0]:.2f} -> {r['loadavg_end'][0]:.2f}; cores busy {cores} %; "
        f"busy {r['busy_cores']:.2f} cores = ours {r['own_cores']:.2f} + others {r['others_cores']:.2f}"
    )


@contextlib.contextmanager
def monitored(log: list[dict[str, Any]], label: str) -> Iterator[LoadMonitor]:
    mon = LoadMonitor()
    with mon:
        yield mon
    log.append({"label": label, **mon.result})


# -- 1. Lightning trial vs hand loop ----------------------------------------------------------------------
def hand_loop(space: Any, arch: Any, dm: Any, epochs: int, input_shape: tuple[int, ...], n_classes: int) -> dict[str, Any]:
    """The same training as the trial, written out: Adam, epoch-mean train loss, val loss/accuracy."""
    import torch
    from torch.nn import functional as F

    from nasbook.training import seeded

    with seeded(SEED, 1):
        net = space.build(arch, input_shape, n_classes)
    curves: dict[str, list[float]] = {"train_loss": [], "val_loss": [], "val_accuracy": []}
    with seeded(SEED, 1):
        opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=LR)
        train_loader, val_loader = dm.train_dataloader(), dm.val_dataloader()
        for _ in range(epochs):
            net.train()
            loss_sum = torch.zeros(())
            n = 0
            for x, y in train_loader:
                loss = F.cross_entropy(net(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.detach() * y.shape[0]
                n += y.shape[0]
            curves["train_loss"].append(float(loss_sum / n))
            net.eval()
            with torch.no_grad():
                vl, correct, m = torch.zeros(()), torch.zeros(()), 0
                for x, y in val_loader:
                    logits = net(x)
                    vl += F.cross_entropy(logits, y) * y.shape[0]
                    correct += (logits.argmax(dim=1) == y).sum()
                    m += y.shape[0]
            curves["val_loss"].append(float(vl / m))
            curves["val_accuracy"].append(float(correct / m))
    return {"curves": curves}


def bench_trial(epochs: int, repeats: int, log: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    from nasbook.space import CellSpace
    from nasbook.tasks import Digits
    from nasbook.training import seeded, train

    torch.set_num_threads(1)
    space = CellSpace()
    arch = space.sample(np.random.default_rng(SEED))
    tasks = {
        "trial": Digits(max_epochs=epochs, batch_size=BATCH, lr=LR, seed=SEED, num_threads=1),
        "trial-nohealth": Digits(max_epochs=epochs, batch_size=BATCH, lr=LR, seed=SEED, num_threads=1, health=False),
    }
    base = tasks["trial"]
    info = base.data_info()
    dm = base.datamodule
    tasks["trial-nohealth"]._datamodule = dm  # the same loaded tensors for every variant
    shape, n_classes = tuple(info["input_shape"]), int(info["n_classes"])

    def run_train(health: bool) -> dict[str, Any]:
        with seeded(SEED, 1):
            net = space.build(arch, shape, n_classes)
        return train(net, dm, max_epochs=epochs, seed=SEED, lr=LR, num_threads=1, health=health, test=False)

    variants: dict[str, Callable[[], Any]] = {
        "trial": lambda: tasks["trial"].evaluate(arch, space=space),
        "trial-nohealth": lambda: tasks["trial-nohealth"].evaluate(arch, space=space),
        "train": lambda: run_train(True),
        "train-nohealth": lambda: run_train(False),
        "hand": lambda: hand_loop(space, arch, dm, epochs, shape, n_classes),
    }
    names = list(variants)
    outs: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:  # warm-up: imports, lazy init, first-call costs
            outs[name] = variants[name]()
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    fit: list[float] = []
    with monitored(log, "1. trial vs hand loop") as mon:
        for r in range(repeats):
            order = names[r % len(names):] + names[: r % len(names)]  # rotate: no variant always first
            for name in order:
                c0, t0 = time.process_time(), time.perf_counter()
                out = variants[name]()
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
                if name == "trial":
                    fit.append(float(out.attrs["train_time_s"]))
    hand_w, hand_c = median(wall["hand"]), median(cpu["hand"])
    rows = {}
    for name in names:
        rows[name] = {
            "wall_s": wall[name], "cpu_s": cpu[name],
            "median_wall_s": median(wall[name]), "median_cpu_s": median(cpu[name]),
            "ratio_wall": median(wall[name]) / hand_w, "ratio_cpu": median(cpu[name]) / hand_c,
        }
    # do the loops compute the same thing? (same seed, same data order: curves should agree closely)
    t_curves, h_curves = outs["trial"].curves, outs["hand"]["curves"]
    diff = {k: max(abs(a - b) for a, b in zip(t_curves[k], h_curves[k])) for k in h_curves}
    return {
        "epochs": epochs, "repeats": repeats, "arch_id": arch.id, "arch_spec": arch.spec if hasattr(arch, "spec") else None,
        "n_params": outs["trial"].attrs.get("n_params"), "steps_per_epoch": outs["trial"].attrs["steps_run"] // epochs,
        "variants": rows, "trial_fit_s": fit, "median_trial_fit_s": median(fit),
        "ratio_trial_fit_wall": median(fit) / hand_w,
        "max_abs_curve_diff_trial_vs_hand": diff, "load": mon.result,
    }


# -- 2. dask overhead per trial --------------------------------------------------------------------------
def _noop() -> None:
    return None


def bench_dask(ex2: Any, n: int, repeats: int, log: list[dict[str, Any]]) -> dict[str, Any]:
    import nasbook
    from nasbook.space import CellSpace
    from nasbook.testing import ToyTask

    space = CellSpace()
    task = ToyTask(space)

    def run(executor: Any, seed: int) -> float:
        s = nasbook.Search(space, task, strategy="random", budget=n, seed=seed, storage=":memory:", executor=executor)
        t0 = time.perf_counter()
        s.run(progress="none")
        dt = time.perf_counter() - t0
        assert s.n_trials == n, s.n_trials
        assert all(t.state.value == "complete" for t in s.trials), {t.state for t in s.trials}
        s.storage.close()
        return dt

    run(ex2, 999)  # warm: the task and space pickled to workers once, functions deserialized
    run("local", 999)
    client = ex2.dask_client
    for _ in range(20):
        client.submit(_noop, pure=False).result()
    dask_s, local_s, rt_ms = [], [], []
    with monitored(log, "2. dask vs local, instant trials") as mon:
        for r in range(repeats):
            if r % 2 == 0:
                dask_s.append(run(ex2, 100 + r))
                local_s.append(run("local", 100 + r))
            else:
                local_s.append(run("local", 100 + r))
                dask_s.append(run(ex2, 100 + r))
            for _ in range(50):
                t0 = time.perf_counter()
                client.submit(_noop, pure=False).result()
                rt_ms.append(1000 * (time.perf_counter() - t0))
    per_trial = [1000 * (d - lo) / n for d, lo in zip(dask_s, local_s)]
    return {
        "trials": n, "repeats": repeats, "dask_s": dask_s, "local_s": local_s,
        "overhead_ms_per_trial": per_trial, "median_overhead_ms": median(per_trial),
        "median_dask_ms_per_trial": 1000 * median(dask_s) / n, "median_local_ms_per_trial": 1000 * median(local_s) / n,
        "roundtrip_ms": rt_ms, "median_roundtrip_ms": median(rt_ms),
        "p90_roundtrip_ms": statistics.quantiles(rt_ms, n=10)[-1] if len(rt_ms) >= 10 else None,
        "load": mon.result,
    }


# -- 3. two workers vs one -------------------------------------------------------------------------------
def equal_cost_space() -> Any:
    """``CellSpace()`` cells with exactly two 3x3 convolutions and skip connections elsewhere: 15
    distinct networks with the same parameters and FLOPs, so two workers get equal shares."""
    import itertools

    from nasbook.space import CellSpace, SubsetSpace

    parent = CellSpace()
    archs = []
    for pos in itertools.combinations(range(parent.n_edges), 2):
        edges = ["skip_connect"] * parent.n_edges
        for p in pos:
            edges[p] = "nor_conv_3x3"
        archs.append(parent.make(edges=edges))
    return SubsetSpace(parent, archs)


def bench_throughput(ex1: Any, ex2: Any, k: int, k_epochs: int, repeats: int, log: list[dict[str, Any]],
                     archs: str = "equal") -> dict[str, Any]:
    import nasbook
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    space = equal_cost_space() if archs == "equal" else CellSpace()
    if archs == "equal" and k > space.cardinality:
        raise SystemExit(f"--k {k}: the equal-cost set holds {space.cardinality} architectures")
    task = Digits(max_epochs=k_epochs, batch_size=BATCH, lr=LR, seed=SEED, num_threads=1)
    warm_mods = ("nasbook.training", "sklearn.datasets", "sklearn.model_selection")

    def run(ex: Any, budget: int, seed: int) -> tuple[float, list[str], list[str]]:
        s = nasbook.Search(space, task, strategy="random", budget=budget, seed=seed, storage=":memory:", executor=ex)
        t0 = time.perf_counter()
        s.run(progress="none")
        dt = time.perf_counter() - t0
        ids = [t.arch.id for t in sorted(s.trials, key=lambda t: t.number)]
        states = [t.state.value for t in s.trials]
        s.storage.close()
        return dt, ids, states

    for ex in (ex1, ex2):
        ex.warm_up(warm_mods)
        run(ex, 2 * ex.capacity, 777)  # every worker trains once untimed
    res: dict[str, dict[str, Any]] = {"1": {"s": [], "load": []}, "2": {"s": [], "load": []}}
    arch_sets: dict[str, set[tuple[str, ...]]] = {"1": set(), "2": set()}
    states_all: list[str] = []
    for r in range(repeats):
        order = [("1", ex1), ("2", ex2)] if r % 2 == 0 else [("2", ex2), ("1", ex1)]
        for label, ex in order:
            with monitored(log, f"3. {archs} archs, {label} worker(s), repeat {r}") as mon:
                dt, ids, states = run(ex, k, 4242)  # the same seed: the same k architectures
            res[label]["s"].append(dt)
            res[label]["load"].append(mon.result)
            arch_sets[label].add(tuple(sorted(ids)))
            states_all += states
    out: dict[str, Any] = {"k": k, "epochs": k_epochs, "repeats": repeats, "archs": archs}
    for label in ("1", "2"):
        m = median(res[label]["s"])
        out[f"workers_{label}"] = {**res[label], "median_s": m, "trials_per_min": 60.0 * k / m}
    out["speedup"] = median(res["1"]["s"]) / median(res["2"]["s"])
    out["same_archs_every_run"] = len(arch_sets["1"] | arch_sets["2"]) == 1
    out["trial_states"] = {s: states_all.count(s) for s in sorted(set(states_all))}
    return out


# -- main ------------------------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=5, help="epochs per trial in part 1 (default 5)")
    ap.add_argument("--repeats", type=int, default=5, help="interleaved repeats in part 1 (parts 2 and 3: min(repeats, 3); default 5)")
    ap.add_argument("--trials", type=int, default=200, help="instant trials per search in part 2 (default 200)")
    ap.add_argument("--k", type=int, default=8, help="Digits trainings per search in part 3 (default 8, at most 15)")
    ap.add_argument("--k-epochs", type=int, default=2, help="epochs of each part-3 training (default 2)")
    ap.add_argument("--json", default=None, help="write raw timings, load samples and metadata here")
    args = ap.parse_args(argv)
    cmd_argv = [sys.argv[0], *(sys.argv[1:] if argv is None else argv)]

    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    meta = metadata(cmd_argv)
    import distributed
    import lightning
    import torch

    meta["versions"].update(torch=torch.__version__, lightning=lightning.__version__, distributed=distributed.__version__,
                            psutil=psutil.__version__)
    meta["machine"]["shared_note"] = "shared machine: other jobs may run during the benchmark; see the load figures"
    print(f"# {meta['command']}")
    print(f"# {meta['date_utc']}; {describe_machine(meta)}")
    print(f"# torch {torch.__version__}, lightning {lightning.__version__}, distributed {distributed.__version__}")
    print(f"# {describe_package(meta)}")
    print(f"# load average at start: {meta['machine']['loadavg_at_start']}")
    t_all = time.perf_counter()
    log: list[dict[str, Any]] = []
    small_repeats = max(1, min(args.repeats, 3))

    # 1.
    p1 = bench_trial(args.epochs, args.repeats, log)
    print(f"\n## 1. Lightning trial vs hand-written torch loop: Digits, CellSpace arch {p1['arch_id']} "
          f"({p1['n_params']} params), {args.epochs} epochs x {p1['steps_per_epoch']} steps, batch {BATCH}, "
          f"1 thread, median of {args.repeats} interleaved repeats")
    rows = []
    for name, v in p1["variants"].items():
        rows.append([name, f"{v['median_wall_s']:.3f}", f"{min(v['wall_s']):.3f}..{max(v['wall_s']):.3f}",
                     f"{v['ratio_wall']:.2f}x", f"{v['median_cpu_s']:.3f}", f"{v['ratio_cpu']:.2f}x"])
    rows.append(["trial: fit only (attrs.train_time_s)", f"{p1['median_trial_fit_s']:.3f}",
                 f"{min(p1['trial_fit_s']):.3f}..{max(p1['trial_fit_s']):.3f}", f"{p1['ratio_trial_fit_wall']:.2f}x", "", ""])
    print(format_table(["variant", "wall s", "min..max", "vs hand", "cpu s", "cpu vs hand"], rows))
    print("max |trial - hand| per-epoch curve difference: "
          + ", ".join(f"{k} {v:.2g}" for k, v in p1["max_abs_curve_diff_trial_vs_hand"].items()))
    print(f"load during part 1: {describe_load(p1['load'])}")
    r_trial, r_noh = p1["variants"]["trial"]["ratio_wall"], p1["variants"]["trial-nohealth"]["ratio_wall"]
    print(f"{verdict(r_trial <= GOAL_TRIAL_RATIO)}: full trial / hand loop = {r_trial:.2f}x wall "
          f"({p1['variants']['trial']['ratio_cpu']:.2f}x CPU); goal <= {GOAL_TRIAL_RATIO}x")
    print(f"       health checks off: {r_noh:.2f}x wall; health checks cost "
          f"{p1['variants']['trial']['median_wall_s'] - p1['variants']['trial-nohealth']['median_wall_s']:+.3f} s per trial")

    from nasbook.executors import DaskExecutor

    ex1 = DaskExecutor(n_workers=1)
    ex2 = DaskExecutor(n_workers=2)
    try:
        t0 = time.perf_counter()
        ex2.start()
        ex1.start()
        start_s = time.perf_counter() - t0
        # 2.
        p2 = bench_dask(ex2, args.trials, small_repeats, log)
        print(f"\n## 2. dask executor overhead: {args.trials} instant ToyTask trials per Search, warm "
              f"DaskExecutor(n_workers=2) vs executor='local', {small_repeats} interleaved repeats")
        rows = [[f"repeat {i}", f"{d:.3f}", f"{lo:.3f}", f"{o:.2f}"]
                for i, (d, lo, o) in enumerate(zip(p2["dask_s"], p2["local_s"], p2["overhead_ms_per_trial"]))]
        print(format_table(["", "dask s", "local s", "overhead ms/trial"], rows))
        print(f"per trial: dask {p2['median_dask_ms_per_trial']:.2f} ms, local {p2['median_local_ms_per_trial']:.2f} ms; "
              f"raw client.submit(f).result() round trip: median {p2['median_roundtrip_ms']:.2f} ms, "
              f"p90 {p2['p90_roundtrip_ms']:.2f} ms")
        print(f"load during part 2: {describe_load(p2['load'])}")
        print(f"{verdict(p2['median_overhead_ms'] <= GOAL_DASK_MS)}: dask overhead {p2['median_overhead_ms']:.2f} ms per trial "
              f"(median of repeats); goal <= {GOAL_DASK_MS:g} ms")
        # 3. (equal-cost architectures: judged) and 3r. (random architectures: reported)
        p3s: dict[str, Any] = {}
        for archs in ("equal", "random"):
            p3 = bench_throughput(ex1, ex2, args.k, args.k_epochs, small_repeats, log, archs=archs)
            p3["cluster_start_s"] = start_s
            p3s[archs] = p3
            what = ("CellSpace cells with two 3x3 convs and skips elsewhere: equal parameters and FLOPs"
                    if archs == "equal" else "random CellSpace cells of different sizes, random seed 4242")
            print(f"\n## 3{'' if archs == 'equal' else 'r'}. Throughput: {args.k} Digits trainings ({args.k_epochs} epochs; "
                  f"{what}) per Search, DaskExecutor(n_workers=1) vs (n_workers=2), warm workers, "
                  f"{small_repeats} interleaved repeats")
            rows = []
            for label in ("1", "2"):
                w = p3[f"workers_{label}"]
                for i, (sec, ld) in enumerate(zip(w["s"], w["load"])):
                    rows.append([f"{label} worker(s), repeat {i}", f"{sec:.2f}", f"{60 * args.k / sec:.1f}",
                                 "/".join(f"{x:.0f}" for x in ld["core_busy_pct"]),
                                 f"{ld['own_cores']:.2f}", f"{ld['others_cores']:.2f}", f"{ld['loadavg_start'][0]:.2f}"])
            print(format_table(["", "s", "trials/min", "cores busy %", "ours (cores)", "others (cores)", "load1"], rows))
            print(f"median: 1 worker {p3['workers_1']['trials_per_min']:.1f} trials/min, 2 workers "
                  f"{p3['workers_2']['trials_per_min']:.1f} trials/min; same architectures in every run: "
                  f"{p3['same_archs_every_run']}; trial states {p3['trial_states']}")
            others = max(ld["others_cores"] for w in ("workers_1", "workers_2") for ld in p3[w]["load"])
            free = others < 0.2
            cores = (f"the cores were {'free' if free else 'NOT free'} (others used up to {others:.2f} cores "
                     "during a timed run)")
            if archs == "equal":
                print(f"{verdict(p3['speedup'] >= GOAL_SPEEDUP)}: 2 workers / 1 worker = {p3['speedup']:.2f}x; goal >= "
                      f"{GOAL_SPEEDUP}x on free cores; {cores}")
            else:
                print(f"(reported, not judged) 2 workers / 1 worker = {p3['speedup']:.2f}x with architectures of "
                      f"different cost: the last trials leave one worker idle; {cores}")
    finally:
        ex1.close()
        ex2.close()
    total = time.perf_counter() - t_all
    print(f"\n# total {total:.0f} s")
    if args.json:
        write_json(args.json, {"meta": meta, "total_s": total, "trial_vs_hand": p1, "dask_overhead": p2,
                               "throughput": p3s["equal"], "throughput_random_archs": p3s["random"], "load_log": log,
                               "goals": {"trial_ratio": GOAL_TRIAL_RATIO, "dask_ms": GOAL_DASK_MS, "speedup": GOAL_SPEEDUP}})
        print(f"# wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
