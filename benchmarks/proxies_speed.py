"""Zero-cost proxies' cost per architecture, old code against new, interleaved in one process.

``old`` is the proxies code before it was made faster (nasbook commit 8b7c194, frozen in
``benchmarks/_proxies_v1.py``); ``new`` is this checkout's ``nasbook.proxies``. For every
architecture of a table (``digits``: ``DigitsTable()``; ``mnist1d``: ``MNIST1DTable()``) each
implementation does what ``nasbook.proxies.compute`` does for one architecture: under torch seed
``--seed``, build the network and score it with every proxy on one batch of ``--batch-size``
training samples (``table.training_task().sample_batch(batch_size, seed)``). The two alternate
which goes first, architecture by architecture, so both see the same load on a shared machine.
It reports, per implementation, mean and median ms per architecture, process CPU time and wall
time, for the build, each shared pass and the total (goal: <= 50 ms), and the largest relative
difference between the two implementations' values of each proxy (they compute the same thing).
With ``--alone N`` it also times each proxy asked for alone (``names=[proxy]``) on the first N
architectures; with ``--bare``, the two shared passes with no proxy arithmetic (two half-batch
cross-entropy forward/backwards to the conv/linear weights; one full-batch forward and backward to
the input), a floor for what any implementation of the same passes costs.

Usage::

    python benchmarks/proxies_speed.py --json FILE [--table digits mnist1d] [--limit N] [--batch-size 64]
        [--seed 0] [--alone N] [--bare] [--jacobian-batch halves|full]

Torch and BLAS run on one thread (set before they load), so times are per core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import describe_machine, describe_package, format_table, metadata, write_json  # noqa: E402

TABLES = {"digits": "DigitsTable", "mnist1d": "MNIST1DTable"}
#: the shared passes, as score_network's timer names them, and the proxies each serves
PASSES = {"halves": "snip, grad_norm, fisher, zico", "jacobian": "jacov, naswot, meco", "synflow": "synflow",
          "flops": "flops"}


def implementations(jacobian_batch: str = "halves") -> dict[str, Callable[..., dict[str, float]]]:
    import functools

    import _proxies_v1

    from nasbook.proxies import _zc

    return {"old": _proxies_v1.score_network, "new": functools.partial(_zc.score_network, jacobian_batch=jacobian_batch)}


def one(score: Callable[..., dict[str, float]], build: Callable[[], Any], x: Any, y: Any, names: list[str],
        seed: int) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Build and score one architecture as ``proxies.compute`` does: values, CPU ms and wall ms by part."""
    from nasbook._seeding import seeded

    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}
    w0, c0 = time.perf_counter(), time.process_time()
    with seeded(seed):
        net = build()
        mark = [time.perf_counter(), time.process_time()]
        cpu["build"], wall["build"] = 1e3 * (mark[1] - c0), 1e3 * (mark[0] - w0)

        def timer(label: str, _seconds: float) -> None:  # a pass's time: from the end of the one before
            now = [time.perf_counter(), time.process_time()]
            wall[label], cpu[label] = 1e3 * (now[0] - mark[0]), 1e3 * (now[1] - mark[1])
            mark[:] = now

        values = score(net, x, y, names, timer=timer)
    cpu["total"], wall["total"] = 1e3 * (time.process_time() - c0), 1e3 * (time.perf_counter() - w0)
    return values, cpu, wall


def bare_passes(net: Any, x: Any, y: Any) -> dict[str, float]:
    """CPU ms of the two shared passes with no proxy arithmetic, hook or restore: a floor for them."""
    import torch
    from torch import nn

    net.train()
    weights = [m.weight for m in net.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    half = x.shape[0] // 2
    c0 = time.process_time()
    for idx in (slice(0, half), slice(half, x.shape[0])):
        torch.autograd.grad(nn.functional.cross_entropy(net(x[idx]), y[idx]), weights)
    c1 = time.process_time()
    for p in net.parameters():
        p.requires_grad_(False)
    xg = x.clone().requires_grad_(True)
    torch.autograd.grad(net(xg).sum(), xg)
    c2 = time.process_time()
    return {"halves (bare)": 1e3 * (c1 - c0), "jacobian (bare)": 1e3 * (c2 - c1)}


def rel_diff(a: float, b: float) -> float:
    if a == b or (math.isnan(a) and math.isnan(b)):
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def run_table(name: str, args: argparse.Namespace) -> dict[str, Any]:
    import nasbook.tasks as tasks
    from nasbook import proxies

    task = getattr(tasks, TABLES[name])()
    train = task.training_task()
    archs = task.space.members[: args.limit]
    x, y = proxies.check_batch("proxies_speed", train.sample_batch(args.batch_size, seed=args.seed))
    k = int(train.n_classes if train.n_classes is not None else train.data_info()["n_classes"])
    shape = tuple(int(s) for s in x.shape[1:])
    impls = implementations(args.jacobian_batch)
    names = list(proxies.PROXIES)
    passes = dict(PASSES)
    if args.jacobian_batch == "halves":
        passes["halves"] = "new: all but synflow, params, flops; old: snip, grad_norm, fisher, zico"
    for arch in archs[:3]:  # untimed warm-up of both
        for score in impls.values():
            one(score, lambda a=arch: task.space.build(a, shape, k), x, y, names, args.seed)
    cpu: dict[str, dict[str, list[float]]] = {v: {} for v in impls}
    wall: dict[str, dict[str, list[float]]] = {v: {} for v in impls}
    worst = dict.fromkeys(names, 0.0)
    alone: dict[str, dict[str, list[float]]] = {v: {n: [] for n in names} for v in impls}
    bare: dict[str, list[float]] = {}
    w0 = time.perf_counter()
    for i, arch in enumerate(archs):
        order = list(impls) if i % 2 == 0 else list(impls)[::-1]
        got: dict[str, dict[str, float]] = {}
        for v in order:
            got[v], c, w = one(impls[v], lambda a=arch: task.space.build(a, shape, k), x, y, names, args.seed)
            for part in c:
                cpu[v].setdefault(part, []).append(c[part])
                wall[v].setdefault(part, []).append(w[part])
            if i < args.alone:
                for n in names:
                    alone[v][n].append(one(impls[v], lambda a=arch: task.space.build(a, shape, k), x, y, [n],
                                           args.seed)[1]["total"])
        for n in names:
            worst[n] = max(worst[n], rel_diff(got["old"][n], got["new"][n]))
        if args.bare:
            from nasbook._seeding import seeded

            with seeded(args.seed):
                for part, ms in bare_passes(task.space.build(arch, shape, k), x, y).items():
                    bare.setdefault(part, []).append(ms)
    seconds = time.perf_counter() - w0
    parts = ["build", *[p for p in passes if any(p in cpu[v] for v in impls)], "total"]

    def stat(d: dict[str, list[float]], part: str, f: Callable[[Any], Any]) -> float:
        return float(f(d[part])) if part in d else 0.0

    rows, summary = [], {}
    for part in parts:
        label = f"{part} ({passes[part]})" if part in passes else ("build + all proxies" if part == "total" else part)
        vals = {f"{v} {kind}": stat(d[v], part, f) for v in impls for kind, d, f in
                (("CPU mean", cpu, np.mean), ("CPU median", cpu, np.median), ("wall mean", wall, np.mean))}
        summary[part] = vals
        ratio = vals["new CPU mean"] / vals["old CPU mean"] if vals["old CPU mean"] else float("nan")
        rows.append([label, *[f"{vals[f'{v} {kind}']:.1f}" for kind in ("CPU mean", "CPU median", "wall mean")
                              for v in impls], f"{ratio:.2f}"])
    n = len(archs)
    print(f"\n## {name}: {n} architectures, batch {args.batch_size}, seed {args.seed}; ms per architecture, one thread "
          f"(old = nasbook 8b7c194's proxies code, new = this checkout, jacobian_batch={args.jacobian_batch!r}; "
          "interleaved)")
    print(format_table(["part", "old CPU mean", "new CPU mean", "old CPU median", "new CPU median", "old wall mean",
                        "new wall mean", "new/old CPU"], rows))
    print("(synflow in new also counts the FLOPs in its forward pass, so new has no flops pass)")
    total = summary["total"]["new CPU mean"]
    print(f"new: {total:.1f} ms CPU per architecture (mean; median {summary['total']['new CPU median']:.1f}), "
          f"goal <= 50: {'met' if total <= 50 else 'missed'}; old: {summary['total']['old CPU mean']:.1f}")
    if bare:
        print("the two shared passes bare (forward + backward only, no proxy arithmetic), CPU ms mean: "
              + ", ".join(f"{part} {np.mean(v):.1f}" for part, v in bare.items()))
    print("largest relative difference old vs new, per proxy: "
          + ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    out: dict[str, Any] = {"table": repr(task), "n_archs": n, "batch_size": args.batch_size, "seed": args.seed,
                           "jacobian_batch": args.jacobian_batch,
                           "ms": summary, "max_rel_diff": worst, "seconds": seconds,
                           "raw_cpu": cpu, "raw_wall": wall,
                           "bare_cpu_mean": {part: float(np.mean(v)) for part, v in bare.items()}}
    if args.alone:
        m = min(args.alone, n)
        rows = [[p, *[f"{np.mean(alone[v][p]):.1f}" for v in impls],
                 f"{np.mean(alone['new'][p]) / np.mean(alone['old'][p]):.2f}"] for p in names]
        print(f"\n## {name}: each proxy alone (names=[proxy]), build included, CPU ms per architecture, mean over "
              f"the first {m} architectures")
        print(format_table(["proxy", "old CPU", "new CPU", "new/old"], rows))
        out["alone_cpu_mean"] = {v: {p: float(np.mean(alone[v][p])) for p in names} for v in impls}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", required=True)
    ap.add_argument("--table", nargs="+", default=["digits", "mnist1d"], choices=sorted(TABLES))
    ap.add_argument("--limit", type=int, default=None, help="first N architectures of each table")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jacobian-batch", default="halves", choices=["halves", "full"],
                    help="new code's jacobian_batch (where jacov, naswot, meco come from)")
    ap.add_argument("--alone", type=int, default=0, metavar="N", help="also time each proxy alone on N architectures")
    ap.add_argument("--bare", action="store_true", help="also time the two shared passes bare (a floor for them)")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    meta = metadata()
    print(f"# {describe_machine(meta)}\n# {describe_package(meta)}")
    t0 = time.perf_counter()
    results = {name: run_table(name, args) for name in args.table}
    meta["seconds"] = time.perf_counter() - t0
    meta["loadavg_at_end"] = os.getloadavg()
    write_json(args.json, {"config": vars(args), "meta": meta, "tables": results})
    print(f"# total {meta['seconds']:.0f} s; wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
