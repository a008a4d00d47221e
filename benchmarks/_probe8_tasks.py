"""benchmarks/outside_probe8.py's ``tasks`` part: ``Digits`` and ``MNIST1D`` with tiny real trainings (1-2 epochs,
small networks): their splits, data descriptions, trained scores, metrics and every documented option on the CPU."""

from __future__ import annotations

import math
import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from _common import Wrong, same


def _rows(x: Any) -> Counter[bytes]:
    a = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
    return Counter(a[i].tobytes() for i in range(len(a)))


def _splits(task: Any, total: int, shares: tuple[float, float, float] | None, full: Any) -> str:
    dm = task.datamodule
    parts = {s: dm.dataset(s) for s in ("train", "val", "test")}
    n = {s: len(d) for s, d in parts.items()}
    same(sum(n.values()), total, "train + val + test")
    if shares is not None:
        for s, share in zip(("train", "val", "test"), shares):
            if abs(n[s] - share * total) > 2:
                raise Wrong(f"{s} holds {n[s]} of {total}, documented share {share}")
    x_all, _ = full
    union = _rows(parts["train"].tensors[0]) + _rows(parts["val"].tensors[0]) + _rows(parts["test"].tensors[0])
    if union != _rows(x_all):
        raise Wrong("the splits together are not the dataset (a sample lost, repeated or changed)")
    tr, va, te = (set(_rows(parts[s].tensors[0])) for s in ("train", "val", "test"))
    dup_in_data = sum(c - 1 for c in _rows(x_all).values() if c > 1)
    overlap = len(tr & va) + len(tr & te) + len(va & te)
    if overlap > dup_in_data:
        raise Wrong(f"{overlap} samples in two splits, more than the {dup_in_data} repeats in the data itself")
    y_all = np.asarray(full[1])
    for s in ("val",):
        ys = parts[s].tensors[1].numpy()
        exp = Counter(y_all.tolist())
        got = Counter(ys.tolist())
        worst = max(abs(got[c] - exp[c] * len(ys) / len(y_all)) for c in exp)
        if worst > 2:
            raise Wrong(f"{s} split not stratified: a class off by {worst:.1f} samples")
    return f"{n}; overlap {overlap} (data repeats {dup_in_data})"


def _split_seeded(make: Any) -> str:
    import torch

    a, b, c = make(0).datamodule, make(0).datamodule, make(1).datamodule
    for s in ("train", "val", "test"):
        if not torch.equal(a.dataset(s).tensors[0], b.dataset(s).tensors[0]):
            raise Wrong(f"split_seed=0 twice: {s} differs")
    if torch.equal(a.dataset("val").tensors[0], c.dataset("val").tensors[0]):
        raise Wrong("split_seed=1 gives the same validation split as split_seed=0")
    return "same per seed, another seed another split"


def _info(task: Any, shape: tuple[int, ...], sizes: tuple[int, int, int]) -> str:
    info = task.data_info()
    same(tuple(info["input_shape"]), shape, "input_shape")
    same(info["n_classes"], 10, "n_classes")
    same((info["n_train"], info["n_val"], info["n_test"]), sizes, "n_train, n_val, n_test")
    return str({k: info[k] for k in ("input_shape", "n_train", "n_val", "n_test")})


def _meta(task: Any) -> str:
    m = task.meta_features()
    for k in ("n_train", "n_val", "n_test", "n_classes", "input_shape", "n_features", "class_entropy", "class_ratio"):
        if k not in m:
            raise Wrong(f"meta_features lacks {k}: {sorted(m)}")
    if not (0 < m["class_entropy"] <= 1 and 0 < m["class_ratio"] <= 1):
        raise Wrong(f"class_entropy {m['class_entropy']}, class_ratio {m['class_ratio']} outside (0, 1]")
    same(m["n_features"], int(np.prod(m["input_shape"])), "n_features")
    import json

    json.dumps(m)
    return f"entropy {m['class_entropy']:.3f}, ratio {m['class_ratio']:.3f}"


def _sample_batch(task: Any) -> str:
    import torch

    state = torch.get_rng_state()
    x1, y1 = task.sample_batch(16, seed=3)
    x2, y2 = task.sample_batch(16, seed=3)
    x3, _ = task.sample_batch(16, seed=4)
    if not (torch.equal(x1, x2) and torch.equal(y1, y2)):
        raise Wrong("sample_batch(seed=3) twice differs")
    if torch.equal(x1, x3):
        raise Wrong("sample_batch seeds 3 and 4 give the same batch")
    same(tuple(x1.shape), (16, *task.data_info()["input_shape"]), "batch shape")
    if not torch.equal(state, torch.get_rng_state()):
        raise Wrong("sample_batch changed torch's global generator")
    big, _ = task.sample_batch(10**6, seed=0)
    same(len(big), task.data_info()["n_train"], "sample_batch larger than the split")
    return "ok"


def _result(r: Any, epochs: int, metric: str = "val_accuracy", run: int | None = None) -> str:
    """Checks a Result of ``epochs`` epochs in all, ``run`` of them by this evaluation (default all)."""
    for k in ("train_loss", "val_loss", "val_accuracy"):
        if k not in r.metrics:
            raise Wrong(f"metrics lack {k}: {sorted(r.metrics)}")
        same(len(r.curves.get(k, [])), epochs, f"curves[{k!r}] length")
        same(r.metrics[k], r.curves[k][-1], f"metrics[{k!r}] = last epoch")
    if not 0 <= r.metrics["val_accuracy"] <= 1:
        raise Wrong(f"val_accuracy {r.metrics['val_accuracy']}")
    for k in ("train_loss", "val_loss"):
        if not (math.isfinite(r.metrics[k]) and r.metrics[k] >= 0):
            raise Wrong(f"{k} {r.metrics[k]}")
    same(r.value, r.metrics[metric], "value = metrics[metric]")
    same(r.epochs, epochs, "epochs")
    a = r.attrs
    if not 0 <= a.get("test_accuracy", -1) <= 1 or not math.isfinite(a.get("test_loss", math.nan)):
        raise Wrong(f"test_accuracy {a.get('test_accuracy')}, test_loss {a.get('test_loss')}")
    if not (isinstance(a.get("n_params"), int) and a["n_params"] > 0 and a.get("flops", 0) > 0):
        raise Wrong(f"n_params {a.get('n_params')!r}, flops {a.get('flops')!r}")
    same(a.get("epochs_run"), epochs if run is None else run, "attrs epochs_run")
    if not (a.get("train_time_s", -1) > 0 and a.get("train_time_total_s", -1) >= a["train_time_s"]):
        raise Wrong(f"train_time_s {a.get('train_time_s')}, total {a.get('train_time_total_s')}")
    if not isinstance(r.checkpoint, bytes):
        raise Wrong("no checkpoint bytes")
    return f"value {r.value:.4f}, test {a['test_accuracy']:.3f}, {a['n_params']} params"


def _same_run(r1: Any, r2: Any, what: str) -> str:
    same(r1.value, r2.value, f"{what}: value")
    for k in ("train_loss", "val_loss", "val_accuracy"):
        same(list(r1.curves[k]), list(r2.curves[k]), f"{what}: curves[{k!r}]")
    same(r1.attrs.get("test_accuracy"), r2.attrs.get("test_accuracy"), f"{what}: test_accuracy")
    return f"value {r1.value:.6f} both"


def _evaluator(task: Any, space: Any, arch: Any) -> Any:
    return lambda **kw: task.evaluate(arch, space=space, **kw)


def _report(task: Any, space: Any, arch: Any) -> str:
    from nasbook.tasks import Decision

    calls: list[tuple[int, list[str]]] = []

    def rep(epoch: int, **metrics: float) -> Any:
        calls.append((epoch, sorted(metrics)))
        return Decision.CONTINUE

    r = task.evaluate(arch, space=space, report=rep, fidelity={"epochs": 2})
    same([c[0] for c in calls], [0, 1], "report epochs")
    if "val_accuracy" not in calls[0][1]:
        raise Wrong(f"report metrics {calls[0][1]}")
    same(r.epochs, 2, "epochs")
    stops: list[int] = []

    def stop(epoch: int, **metrics: float) -> Any:
        stops.append(epoch)
        return Decision.STOP

    r2 = task.evaluate(arch, space=space, report=stop, fidelity={"epochs": 2})
    same(stops, [0], "STOP after epoch 0: report calls")
    same((r2.epochs, len(r2.curves["val_accuracy"])), (1, 1), "STOP after epoch 0: epochs, curve length")
    return f"reports {calls}"


def _globals_untouched(task: Any, space: Any, arch: Any) -> str:
    import random

    import torch

    np.random.seed(123)
    random.seed(123)
    torch.manual_seed(123)
    threads = torch.get_num_threads()
    before = (np.random.get_state()[1].copy(), random.getstate(), torch.get_rng_state())
    task.evaluate(arch, space=space)
    after = (np.random.get_state()[1], random.getstate(), torch.get_rng_state())
    if not np.array_equal(before[0], after[0]):
        raise Wrong("evaluate changed numpy's global generator")
    if before[1] != after[1]:
        raise Wrong("evaluate changed Python's random generator")
    if not torch.equal(before[2], after[2]):
        raise Wrong("evaluate changed torch's global generator")
    same(torch.get_num_threads(), threads, "torch threads restored")
    return "numpy, random, torch generators and threads as they were"


def _cuda_or_refused(make: Any, space: Any, arch: Any, accel: str) -> Any:
    return make(accelerator=accel).evaluate(arch, space=space)


def part_tasks(check: Any, workdir: Path) -> None:
    import torch

    from nasbook.space import CellSpace, ChainSpace, ConvDenseSpace, GraphSpace
    from nasbook.tasks import MNIST1D, BreastCancer, Digits

    Q = "tasks"
    dig_full = Digits().datamodule.load()
    check(Q, "Digits splits: 60/20/20 of 1797, union = the data, no overlap, stratified",
          lambda: _splits(Digits(), 1797, (0.6, 0.2, 0.2), dig_full))
    check(Q, "Digits split_seed: same split per seed, another seed another split", lambda: _split_seeded(lambda s: Digits(split_seed=s)))
    check(Q, "Digits(split_seed=7) splits: union = the data, no overlap",
          lambda: _splits(Digits(split_seed=7), 1797, (0.6, 0.2, 0.2), dig_full))
    check(Q, "Digits data_info", lambda: _info(Digits(), (1, 8, 8), (1077, 360, 360)))
    check(Q, "Digits meta_features", lambda: _meta(Digits()))
    check(Q, "Digits sample_batch seeded, shape, torch generator untouched", lambda: _sample_batch(Digits()))
    m_full = MNIST1D().datamodule.load()
    check(Q, "MNIST1D splits: train + val = the package's 4000 (3200 / 800), test its 1000",
          lambda: _splits_mnist(MNIST1D(), m_full))
    check(Q, "MNIST1D split_seed: same split per seed, another seed another split", lambda: _split_seeded(lambda s: MNIST1D(split_seed=s)))
    check(Q, "MNIST1D test split the same for every split_seed", _mnist_test_fixed)
    check(Q, "MNIST1D data_info", lambda: _info(MNIST1D(), (1, 40), (3200, 800, 1000)))
    check(Q, "MNIST1D meta_features", lambda: _meta(MNIST1D()))

    cell = CellSpace(n_nodes=3, channels=4, n_cells=1, n_stages=1)
    ca = cell.make(edges=["nor_conv_3x3", "skip_connect", "nor_conv_1x1"])
    d1 = Digits(max_epochs=1, batch_size=128)
    ev = _evaluator(d1, cell, ca)
    r0 = check(Q, "Digits 1 epoch, tiny cell: metrics' names and ranges, value, attrs", lambda: _chk(ev(), 1))
    if r0 is not None:
        check(Q, "Digits same seed twice: the same score, curves and test accuracy", lambda: _same_run(r0, ev(), "seed 0 twice"))
        check(Q, "Digits a fresh task of the same seed: same score", lambda: _same_run(r0, Digits(max_epochs=1, batch_size=128).evaluate(ca, space=cell), "fresh task"))
        check(Q, "Digits seed=1: another curve", lambda: _differs(r0, Digits(max_epochs=1, batch_size=128, seed=1).evaluate(ca, space=cell)))
        check(Q, "Digits deterministic=True on the CPU: the same score as False",
              lambda: _same_run(r0, Digits(max_epochs=1, batch_size=128, deterministic=True).evaluate(ca, space=cell), "deterministic"))
        check(Q, "Digits trainer={'precision': '32-true'}: the same score as the default",
              lambda: _same_run(r0, Digits(max_epochs=1, batch_size=128, trainer={"precision": "32-true"}).evaluate(ca, space=cell), "32-true"))
        check(Q, "Digits num_threads=2: a score (threads may change the last digits)",
              lambda: _chk(Digits(max_epochs=1, batch_size=128, num_threads=2).evaluate(ca, space=cell), 1))
        check(Q, "Digits num_threads=None", lambda: _chk(Digits(max_epochs=1, batch_size=128, num_threads=None).evaluate(ca, space=cell), 1))
    check(Q, "Digits 2 epochs in one go = 1 epoch + continue from its checkpoint to 2", lambda: _continued(d1, cell, ca))
    check(Q, "Digits metric='val_loss', mode='min': value = val_loss",
          lambda: _chk(Digits(max_epochs=1, batch_size=128, metric="val_loss", mode="min").evaluate(ca, space=cell), 1, "val_loss"))
    check(Q, "Digits metric='train_loss', mode='min'",
          lambda: _chk(Digits(max_epochs=1, batch_size=128, metric="train_loss", mode="min").evaluate(ca, space=cell), 1, "train_loss"))
    check(Q, "Digits batch_size=5000 (> the training split): one step",
          lambda: _steps(Digits(max_epochs=1, batch_size=5000).evaluate(ca, space=cell), 1))
    check(Q, "Digits batch_size=128: ceil(1077/128) = 9 steps", lambda: _steps(d1.evaluate(ca, space=cell), 9))
    mlp = ChainSpace(kind="mlp", max_depth=1, widths=(16,))
    ma = mlp.make(layers=[["relu", 16]])
    check(Q, "Digits batch_size=1 (MLP; 50 batches): a score or refused naming batch_size",
          lambda: _chk(Digits(max_epochs=1, batch_size=1, trainer={"limit_train_batches": 50}).evaluate(ma, space=mlp), 1), "either", ("batch_size",))
    check(Q, "Digits batch_size=1 (tiny cell with BatchNorm; 50 batches): a score or refused naming batch_size",
          lambda: _chk(Digits(max_epochs=1, batch_size=1, trainer={"limit_train_batches": 50}).evaluate(ca, space=cell), 1), "either", ("batch_size",))
    check(Q, "Digits batch_size=1077 (= the training split, ChainSpace mlp)",
          lambda: _chk(Digits(max_epochs=1, batch_size=1077).evaluate(ma, space=mlp), 1))
    check(Q, "Digits batch_size=1076 (last batch of one sample, MLP)",
          lambda: _chk(Digits(max_epochs=1, batch_size=1076).evaluate(ma, space=mlp), 1), "either", ("batch_size",))
    check(Q, "Digits latency=True: latency_ms > 0, p95 >= median", lambda: _latency(Digits(max_epochs=1, batch_size=128, latency=True).evaluate(ca, space=cell)))
    for opt in ("adamw", "sgd"):
        check(Q, f"Digits optimizer={opt!r}", lambda o=opt: _chk(Digits(max_epochs=1, batch_size=128, optimizer=o).evaluate(ca, space=cell), 1))
    check(Q, "Digits trainer={'gradient_clip_val': 1.0}", lambda: _chk(Digits(max_epochs=1, batch_size=128, trainer={"gradient_clip_val": 1.0}).evaluate(ca, space=cell), 1))
    for prec in ("bf16-mixed", "16-mixed", "64-true", "bf16-true"):
        check(Q, f"Digits trainer={{'precision': {prec!r}}} on the CPU: a score or refused naming precision",
              lambda p=prec: _chk(Digits(max_epochs=1, batch_size=128, trainer={"precision": p}).evaluate(ca, space=cell), 1), "either", ("precision",))
    check(Q, "Digits accelerator='auto' on this machine", lambda: _chk(Digits(max_epochs=1, batch_size=128, accelerator="auto").evaluate(ca, space=cell), 1))
    has_cuda = torch.cuda.is_available()
    for accel in ("cuda", "gpu", "mps"):
        ok = accel in ("cuda", "gpu") and has_cuda
        check(Q, f"Digits accelerator={accel!r} on a machine {'with' if has_cuda else 'without'} CUDA",
              lambda a=accel, ok=ok: _cuda_or_refused(Digits, cell, ca, a) if ok else Digits(max_epochs=1, accelerator=a).evaluate(ca, space=cell),
              "ok" if ok else "refused", ("accelerator",))
    if r0 is not None:
        check(Q, "Digits the same seed in a fresh process (another PYTHONHASHSEED): the same score and curves", lambda: _fresh_process(r0))
    for seed_kw in ({"seed": 2**32}, {"seed": 2**40}, {"split_seed": 2**32}, {"split_seed": 2**40}):
        key = ", ".join(f"{k}={v}" for k, v in seed_kw.items())
        check(Q, f"Digits({key}): trains (deterministically) or refused naming it",
              lambda kw=seed_kw: _twice_same(lambda: Digits(max_epochs=1, batch_size=256, **kw).evaluate(ma, space=mlp)), "either", tuple(seed_kw))
    check(Q, "Digits(seed=2**32 - 1) trains, twice the same", lambda: _twice_same(lambda: Digits(max_epochs=1, batch_size=256, seed=2**32 - 1).evaluate(ma, space=mlp)))
    check(Q, "Digits(lr=1e4, sgd): diverges: TrialDiverged, or a finite score", lambda: _chk(Digits(max_epochs=1, batch_size=128, lr=1e4, optimizer="sgd").evaluate(ca, space=cell), 1),
          "either", ())
    for what, kw in (("trainer={'limit_train_batches': 0.5}", {"trainer": {"limit_train_batches": 0.5}}),
                     ("trainer={'accumulate_grad_batches': 2}", {"trainer": {"accumulate_grad_batches": 2}}),
                     ("deterministic='warn'", {"deterministic": "warn"}), ("health=False", {"health": False}),
                     ("health={'max_grad_norm': 1e5}", {"health": {"max_grad_norm": 1e5}}), ("weight_decay=1e-4", {"weight_decay": 1e-4})):
        check(Q, f"Digits {what}", lambda kw=kw: _chk(Digits(max_epochs=1, batch_size=128, **kw).evaluate(ca, space=cell), 1))
    check(Q, "Digits trainer={'limit_train_batches': 0.5}: int(0.5 x 9) = 4 steps", lambda: _steps(Digits(max_epochs=1, batch_size=128, trainer={"limit_train_batches": 0.5}).evaluate(ca, space=cell), 4))
    check(Q, "Digits max_epochs=3, fidelity={'epochs': 1}: 1 epoch", lambda: _chk(Digits(max_epochs=3, batch_size=128).evaluate(ca, space=cell, fidelity={"epochs": 1}), 1))
    cnn = ChainSpace(max_depth=1, widths=(8,))
    check(Q, "Digits with ChainSpace(cnn) conv3x3 x8", lambda: _chk(Digits(max_epochs=1, batch_size=128).evaluate(cnn.make(layers=[["conv3x3", 8]]), space=cnn), 1))
    check(Q, "Digits with ConvDenseSpace (Conv2d) conv3 x4 + dense 16", lambda: _chk(Digits(max_epochs=1, batch_size=128).evaluate(
        ConvDenseSpace(max_conv=1, max_dense=1, conv_widths=(4,), dense_widths=(16,)).make(conv=[["conv3", 4]], dense=[16]),
        space=ConvDenseSpace(max_conv=1, max_dense=1, conv_widths=(4,), dense_widths=(16,))), 1))
    check(Q, "Search(Digits(max_epochs=1), tiny CellSpace, budget 2, seed 3): trials complete, values in [0, 1]", lambda: _search(workdir))
    check(Q, "BreastCancer splits: 60/20/20 of 569, union = the data, no overlap, stratified",
          lambda: _splits_bc())
    check(Q, "BreastCancer 1 epoch MLP: metrics, twice the same", lambda: _twice_same(lambda: BreastCancer(max_epochs=1).evaluate(
        ChainSpace(kind="mlp", max_depth=1, widths=(16,)).make(layers=[["relu", 16]]), space=ChainSpace(kind="mlp", max_depth=1, widths=(16,)))))
    check(Q, "Digits num_threads=3: torch's threads as they were after evaluate",
          lambda: _globals_untouched(Digits(max_epochs=1, batch_size=256, num_threads=3), cell, ca))
    from nasbook.tasks import DigitsTable

    table_space = DigitsTable().space
    ta = table_space.members[0]
    check(Q, "Digits trains a DigitsTable architecture on its SubsetSpace (the parent's network)",
          lambda: _chk(Digits(max_epochs=1, batch_size=256, trainer={"limit_train_batches": 2}).evaluate(ta, space=table_space), 1))
    check(Q, "Digits evaluate(a subset's arch, space=its parent)", lambda: Digits(max_epochs=1).evaluate(ta, space=table_space.parent),
          "refused", ("space",))
    check(Q, "Digits report each epoch; Decision.STOP after epoch 0", lambda: _report(d1, cell, ca))
    check(Q, "Digits evaluate leaves numpy / random / torch generators and threads as they were", lambda: _globals_untouched(d1, cell, ca))
    check(Q, "Digits pickled, evaluated: the same score", lambda: _same_run(r0, pickle.loads(pickle.dumps(d1)).evaluate(ca, space=cell), "pickled") if r0 else "skipped")
    check(Q, "Digits repr one line, to_config JSON", lambda: _task_repr(d1))

    cd = ConvDenseSpace(max_conv=1, max_dense=1, conv_widths=(4,), dense_widths=(16,))
    cda = cd.make(conv=[["conv5_s2", 4]], dense=[16])
    m1 = MNIST1D(max_epochs=1, batch_size=256)
    rm = check(Q, "MNIST1D 1 epoch, ConvDense conv5_s2 x4 + dense 16: metrics' names and ranges", lambda: _chk(m1.evaluate(cda, space=cd), 1))
    if rm is not None:
        check(Q, "MNIST1D same seed twice: the same score", lambda: _same_run(rm, MNIST1D(max_epochs=1, batch_size=256).evaluate(cda, space=cd), "MNIST1D seed 0 twice"))
        check(Q, "MNIST1D split_seed=3: another validation score", lambda: _differs(rm, MNIST1D(max_epochs=1, batch_size=256, split_seed=3).evaluate(cda, space=cd)))
    wide = ChainSpace(kind="mlp", max_depth=1, widths=(64,))
    wa = wide.make(layers=[["relu", 64]])
    check(Q, "Digits learns: MLP 64, 2 epochs, batch 32: validation and test accuracy > 0.5 (chance 0.1)",
          lambda: _learns(Digits(max_epochs=2, batch_size=32).evaluate(wa, space=wide), 0.5))
    check(Q, "MNIST1D learns: ConvDense conv5_s2 x16 + dense 64, 2 epochs, batch 64: accuracy > 0.2 (chance 0.1)",
          lambda: _learns(MNIST1D(max_epochs=2, batch_size=64).evaluate(ConvDenseSpace().make(conv=[["conv5_s2", 16]], dense=[64]), space=ConvDenseSpace()), 0.2))
    check(Q, "MNIST1D logistic regression (no layer)", lambda: _chk(m1.evaluate(cd.make(conv=[], dense=[]), space=cd), 1))
    check(Q, "MNIST1D with CellSpace (Conv1d cells)", lambda: _chk(m1.evaluate(ca, space=cell), 1))
    check(Q, "MNIST1D with ChainSpace(kind='mlp')", lambda: _chk(m1.evaluate(ma, space=mlp), 1))

    ga = GraphSpace().make(link=[0, 0, 1, 2], ops=["gcn", "gat", "sage", "fc"])
    for what, call, says in (
        ("evaluate without space", lambda: d1.evaluate(ca), ("space",)),
        ("evaluate(arch, space=another space)", lambda: d1.evaluate(ca, space=mlp), ("space",)),
        ("evaluate(GraphSpace arch, space=GraphSpace())", lambda: d1.evaluate(ga, space=GraphSpace()), ("tabular",)),
        ("evaluate('not an arch', space=cell)", lambda: d1.evaluate("abc", space=cell), ("Architecture",)),
        ("evaluate(fidelity={'epoch': 2})", lambda: d1.evaluate(ca, space=cell, fidelity={"epoch": 2}), ("epochs",)),
        ("evaluate(fidelity={'epochs': 0})", lambda: d1.evaluate(ca, space=cell, fidelity={"epochs": 0}), ("epochs",)),
        ("evaluate(fidelity={'epochs': 1.5})", lambda: d1.evaluate(ca, space=cell, fidelity={"epochs": 1.5}), ("epochs",)),
        ("evaluate(fidelity=2)", lambda: d1.evaluate(ca, space=cell, fidelity=2), ("fidelity",)),
        ("evaluate(fidelity={'checkpoint': b'garbage'})", lambda: d1.evaluate(ca, space=cell, fidelity={"checkpoint": b"garbage"}), ("checkpoint",)),
        ("evaluate(fidelity={'checkpoint': 'a str'})", lambda: d1.evaluate(ca, space=cell, fidelity={"checkpoint": "abc"}), ("checkpoint",)),
        ("evaluate(report='x')", lambda: d1.evaluate(ca, space=cell, report="x"), ("report",)),
        ("evaluate(report=42) on DigitsTable", lambda: _table_report(42), ("report",)),
        ("evaluate(MNIST1D data, a 2-D CellSpace built for (1, 8, 8))", lambda: MNIST1D(max_epochs=1, input_shape=(1, 8, 8)).evaluate(ca, space=cell), ("input_shape",)),
    ):
        check(Q, f"Digits {what}", call, "refused", says)
    if r0 is not None:
        other = cell.make(edges=["nor_conv_1x1", "none", "nor_conv_3x3"])
        check(Q, "Digits evaluate with another architecture's checkpoint", lambda: d1.evaluate(other, space=cell, fidelity={"epochs": 2, "checkpoint": r0.checkpoint}),
              "refused", ("checkpoint",))
        r2 = d1.evaluate(ca, space=cell, fidelity={"epochs": 2})
        check(Q, "Digits continue a 2-epoch checkpoint to 1 epoch", lambda: d1.evaluate(ca, space=cell, fidelity={"epochs": 1, "checkpoint": r2.checkpoint}),
              "refused", ("epochs",))
    _bad_options(check, Q)


def _bad_options(check: Any, Q: str) -> None:
    from nasbook.tasks import MNIST1D, Digits

    for cls in (Digits, MNIST1D):
        c = cls.__name__
        for kw, says in (
            ({"max_epochs": 0}, ("max_epochs",)), ({"max_epochs": -1}, ("max_epochs",)), ({"max_epochs": 1.5}, ("max_epochs",)),
            ({"max_epochs": "2"}, ("max_epochs",)), ({"max_epochs": True}, ("max_epochs",)), ({"max_epochs": None}, ("max_epochs",)),
            ({"batch_size": 0}, ("batch_size",)), ({"batch_size": 2.5}, ("batch_size",)), ({"batch_size": None}, ("batch_size",)),
            ({"batch_size": "64"}, ("batch_size",)),
            ({"seed": -1}, ("seed",)), ({"seed": "a"}, ("seed",)), ({"seed": 1.5}, ("seed",)), ({"seed": None}, ("seed",)),
            ({"split_seed": -1}, ("split_seed",)), ({"split_seed": "0"}, ("split_seed",)),
            ({"lr": 0}, ("lr",)), ({"lr": -1e-3}, ("lr",)), ({"lr": float("nan")}, ("lr",)), ({"lr": "1e-3"}, ("lr",)), ({"lr": float("inf")}, ("lr",)),
            ({"weight_decay": -1}, ("weight_decay",)), ({"weight_decay": float("nan")}, ("weight_decay",)),
            ({"optimizer": "rmsprop"}, ("optimizer", "adam")), ({"optimizer": "Adam"}, ("optimizer",)),
            ({"metric": "accuracy"}, ("metric", "val_accuracy")), ({"metric": "test_accuracy"}, ("metric",)), ({"metric": ""}, ("metric",)),
            ({"mode": "maximize"}, ("mode", "max")), ({"mode": None}, ("mode",)),
            ({"accelerator": "tpu"}, ("accelerator", "cpu")), ({"accelerator": "CPU"}, ("accelerator",)),
            ({"num_threads": 0}, ("num_threads",)), ({"num_threads": -2}, ("num_threads",)), ({"num_threads": 1.0}, ("num_threads",)),
            ({"health": "yes"}, ("health",)), ({"health": {"max_grad": 1.0}}, ("health", "max_grad")),
            ({"latency": "no"}, ("latency",)), ({"deterministic": "maybe"}, ("deterministic",)),
            ({"trainer": "x"}, ("trainer",)), ({"trainer": {"devices": 2}}, ("devices",)), ({"trainer": {"accelerator": "cpu"}}, ("accelerator",)),
            ({"trainer": {"max_epochs": 3}}, ("max_epochs",)), ({"trainer": {"bogus_option": 1}}, ("bogus_option",)),
            ({"trainer": {"gradient_clip_val": float("nan")}}, ("gradient_clip_val",)), ({"trainer": {"limit_train_batches": 0}}, ("limit_train_batches",)),
            ({"trainer": {"accumulate_grad_batches": 0}}, ("accumulate_grad_batches",)), ({"trainer": {"precision": "8-bit"}}, ("precision",)),
            ({"trainer": {"callbacks": []}}, ("callbacks",)), ({"trainer": {"strategy": "ddp"}}, ("strategy",)),
            ({"trainer": {"num_nodes": 2}}, ("num_nodes",)),
            ({"epochs": 2}, ("max_epochs",)), ({"batchsize": 8}, ("batch_size",)), ({"devices": 1}, ("devices",)),
            ({"precision": "bf16-mixed"}, ("precision",)),
        ):
            key = ", ".join(f"{k}={v!r}" for k, v in kw.items())
            if "health" in kw and isinstance(kw["health"], dict):
                check(Q, f"{c}({key}): refused at construction or at evaluate", lambda cls=cls, kw=kw: _construct_and_run(cls, kw), "refused", says)
            else:
                check(Q, f"{c}({key})", lambda cls=cls, kw=kw: cls(**kw), "refused", says)
        check(Q, f"{c}(max_epochs=np.int64(2), seed=np.int64(3))", lambda cls=cls: _np_ints(cls))
        check(Q, f"{c}.sample_batch(batch_size=0)", lambda cls=cls: cls().sample_batch(0), "refused", ("batch_size",))
        check(Q, f"{c}.sample_batch(seed=-1)", lambda cls=cls: cls().sample_batch(4, seed=-1), "refused", ("seed",))


def _construct_and_run(cls: Any, kw: dict[str, Any]) -> Any:
    from nasbook.space import ChainSpace

    s = ChainSpace(kind="mlp", max_depth=1, widths=(8,))
    return cls(max_epochs=1, **kw).evaluate(s.make(layers=[["relu", 8]]), space=s)


def _np_ints(cls: Any) -> str:
    t = cls(max_epochs=np.int64(2), seed=np.int64(3), batch_size=np.int64(32))
    cfg = t.to_config()
    import json

    json.dumps(cfg)
    same((type(t.max_epochs), type(t.seed), type(t.batch_size)), (int, int, int), "stored as ints")
    return "ints"


def _chk(r: Any, epochs: int, metric: str = "val_accuracy") -> Any:
    _result(r, epochs, metric)
    return r


def _differs(r0: Any, r1: Any) -> str:
    _result(r1, r0.epochs)
    if list(r0.curves["train_loss"]) == list(r1.curves["train_loss"]):
        raise Wrong("another seed gives the same training curve")
    return f"{r0.value:.4f} vs {r1.value:.4f}"


def _continued(task: Any, space: Any, arch: Any) -> str:
    one = task.evaluate(arch, space=space, fidelity={"epochs": 1})
    cont = task.evaluate(arch, space=space, fidelity={"epochs": 2, "checkpoint": one.checkpoint})
    two = task.evaluate(arch, space=space, fidelity={"epochs": 2})
    _result(cont, 2, run=1)
    return _same_run(cont, two, "continued vs one go")


def _steps(r: Any, steps: int) -> str:
    _result(r, 1)
    same(r.attrs.get("steps_run"), steps, "steps_run")
    return f"{steps} steps"


def _latency(r: Any) -> str:
    _result(r, 1)
    lat, p95 = r.metrics.get("latency_ms"), r.attrs.get("latency_p95_ms")
    if not (isinstance(lat, float) and lat > 0 and p95 is not None and p95 >= lat):
        raise Wrong(f"latency_ms {lat!r}, p95 {p95!r}")
    return f"{lat:.3f} ms"


def _task_repr(task: Any) -> str:
    import json

    r = repr(task)
    if "\n" in r:
        raise Wrong("repr spans lines")
    json.dumps(task.to_config())
    return r[:100]


def _splits_mnist(task: Any, full: Any) -> str:
    import torch

    dm = task.datamodule
    n = {s: len(dm.dataset(s)) for s in ("train", "val", "test")}
    same(n, {"train": 3200, "val": 800, "test": 1000}, "split sizes")
    union = _rows(dm.dataset("train").tensors[0]) + _rows(dm.dataset("val").tensors[0])
    if union != _rows(full[0]):
        raise Wrong("train + val are not the package's 4000 training sequences")
    te = set(_rows(dm.dataset("test").tensors[0]))
    tr = set(union)
    if tr & te:
        raise Wrong(f"{len(tr & te)} test sequences also in train/val")
    if not torch.is_floating_point(dm.dataset("train").tensors[0]) or dm.dataset("train").tensors[1].dtype != torch.long:
        raise Wrong("dtypes")
    return str(n)


def _mnist_test_fixed() -> str:
    import torch

    from nasbook.tasks import MNIST1D

    a, b = MNIST1D(split_seed=0).datamodule.dataset("test"), MNIST1D(split_seed=5).datamodule.dataset("test")
    if not torch.equal(a.tensors[0], b.tensors[0]):
        raise Wrong("the test split changes with split_seed")
    return "fixed"


def _table_report(report: Any) -> Any:
    from nasbook.tasks import DigitsTable

    t = DigitsTable()
    return t.evaluate(t.space.sample(np.random.default_rng(0)), space=t.space, report=report)


def _twice_same(run: Any) -> str:
    r1 = run()
    _result(r1, r1.epochs)
    return _same_run(r1, run(), "twice")


_FRESH = r"""
import json, sys
import numpy as np
from nasbook.space import CellSpace
from nasbook.tasks import Digits
cell = CellSpace(n_nodes=3, channels=4, n_cells=1, n_stages=1)
r = Digits(max_epochs=1, batch_size=128).evaluate(cell.make(edges=["nor_conv_3x3", "skip_connect", "nor_conv_1x1"]), space=cell)
print(json.dumps({"value": r.value, "curves": {k: list(map(float, v)) for k, v in r.curves.items()}, "test": r.attrs["test_accuracy"]}))
"""


def _fresh_process(r0: Any) -> str:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": "4242", "OMP_NUM_THREADS": "1"}
    p = subprocess.run([sys.executable, "-c", _FRESH], capture_output=True, text=True, env=env, timeout=600)
    if p.returncode:
        raise Wrong(f"child failed: {p.stderr[-300:]}")
    got = json.loads(p.stdout.strip().splitlines()[-1])
    same(got["value"], r0.value, "value")
    for k in ("train_loss", "val_loss", "val_accuracy"):
        same(got["curves"][k], [float(v) for v in r0.curves[k]], f"curves[{k!r}]")
    same(got["test"], r0.attrs["test_accuracy"], "test_accuracy")
    return f"value {got['value']:.6f} in both"


def _search(workdir: Path) -> str:
    from nasbook import Search
    from nasbook.space import CellSpace
    from nasbook.tasks import Digits

    cell = CellSpace(n_nodes=3, channels=4, n_cells=1, n_stages=1)
    s = Search(cell, Digits(max_epochs=1, batch_size=256), budget=2, seed=3, storage=str(workdir / "s.db"), name="p8")
    s.run(progress="none")
    states = [str(t.state) for t in s.trials]
    vals = [t.value for t in s.trials]
    if len(vals) != 2 or not all(v is not None and 0 <= v <= 1 for v in vals):
        raise Wrong(f"trials {states} values {vals}")
    t = s.trials[0]
    for k in ("train_loss", "val_loss", "val_accuracy"):
        if k not in t.metrics:
            raise Wrong(f"trial metrics lack {k}: {sorted(t.metrics)}")
    return f"values {[round(v, 4) for v in vals]}"


def _splits_bc() -> str:
    from nasbook.tasks import BreastCancer

    t = BreastCancer()
    x, y = t.datamodule.load()
    dm = t.datamodule
    parts = {s: dm.dataset(s) for s in ("train", "val", "test")}
    same(sum(len(d) for d in parts.values()), 569, "sizes")
    tr = parts["train"].tensors[0].numpy()
    if not (abs(tr.mean(axis=0)).max() < 1e-4 and abs(tr.std(axis=0) - 1).max() < 1e-3):
        raise Wrong("the training split is not standardized")
    ys = Counter(int(v) for d in parts.values() for v in d.tensors[1])
    same(dict(sorted(ys.items())), dict(sorted(Counter(y.tolist()).items())), "labels of the splits = the data's")
    return f"{[len(d) for d in parts.values()]}"


def _learns(r: Any, floor: float) -> str:
    _result(r, r.epochs)
    if not (r.value > floor and r.attrs["test_accuracy"] > floor):
        raise Wrong(f"val {r.value:.3f}, test {r.attrs['test_accuracy']:.3f}: not above {floor}")
    return f"val {r.value:.3f}, test {r.attrs['test_accuracy']:.3f}"
