"""Zero-cost proxies: orientation (higher = better), invariances, determinism, the network left
untouched, and clear errors. Torch is imported inside the tests (collection stays light)."""

import math

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError, NasbookError, NotBuildableError
from nasbook.space import ChainSpace, GraphSpace

GRADIENT_PROXIES = ["synflow", "snip", "grad_norm", "fisher", "jacov", "naswot", "zico", "meco"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def proxies(torch):
    from nasbook import proxies

    return proxies


def _images(torch, n=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def _vectors(torch, n=32, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_compute_gives_one_variable_per_proxy_over_arch_all_finite(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=3)
    archs = [space.sample(np.random.default_rng(i)) for i in range(4)]
    ds = proxies.compute(space, archs, _images(torch), n_classes=10)
    assert list(ds.data_vars) == list(proxies.PROXIES)
    assert list(ds["arch"].values) == [a.id for a in archs]
    assert ds["ms"].shape == (4,) and (ds["ms"].values > 0).all()
    for name in ds.data_vars:
        assert ds[name].attrs["higher_is_better"] == 1 and ds[name].attrs["description"]
        assert np.isfinite(ds[name].values).all(), name
    arr = ds.to_array("proxy")
    assert arr.dims == ("proxy", "arch")


def test_compute_is_deterministic_under_a_seed_and_the_seed_matters(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=2)
    archs = [space.make(layers=[["conv3x3", 16], ["conv3x3", 16]])]
    batch = _images(torch)
    a = proxies.compute(space, archs, batch, seed=3, n_classes=10)
    b = proxies.compute(space, archs, batch, seed=3, n_classes=10)
    c = proxies.compute(space, archs, batch, seed=4, n_classes=10)
    for name in GRADIENT_PROXIES:
        assert a[name].values[0] == b[name].values[0], name
    assert a["snip"].values[0] != c["snip"].values[0]  # another initialisation
    assert a["params"].values[0] == c["params"].values[0]


def test_synflow_and_params_grow_with_width_at_fixed_depth(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=3, widths=[8, 16, 32, 64])
    archs = [space.make(layers=[["conv3x3", w]] * 3) for w in (8, 16, 32, 64)]
    ds = proxies.compute(space, archs, _images(torch), n_classes=10, names=["synflow", "params", "flops"])
    for name in ("synflow", "params", "flops"):
        assert np.all(np.diff(ds[name].values) > 0), (name, ds[name].values)


def test_a_dead_layer_scores_worst_on_naswot(torch, proxies):
    from torch import nn

    x, y = _vectors(torch, n=32)

    def mlp(seed: int, dead: int | None = None):
        torch.manual_seed(seed)
        net = nn.Sequential(nn.Linear(12, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 3))
        if dead is not None:
            with torch.no_grad():
                net[dead].weight.zero_()
                net[dead].bias.zero_()
        return net

    alive = [proxies.naswot(mlp(s), x, y) for s in range(4)]
    dead_middle = proxies.naswot(mlp(0, dead=2), x, y)
    dead_first = proxies.naswot(mlp(0, dead=0), x, y)
    assert all(math.isfinite(a) for a in alive)
    assert dead_middle < min(alive)  # the second ReLU no longer tells any two samples apart
    assert dead_first == -math.inf  # no unit tells any two samples apart: K is singular


def test_proxies_are_invariant_to_the_order_of_the_batch(torch, proxies):
    """Without BatchNorm the two halves' mean gradient is the batch's gradient, so every proxy
    except zico (which compares the halves) ignores the order of the samples; synflow ignores the
    data altogether."""
    space = ChainSpace(kind="mlp", max_depth=3)
    arch = space.make(layers=[["relu", 32], ["relu", 32]])
    x, y = _vectors(torch, n=32)
    perm = torch.randperm(32, generator=torch.Generator().manual_seed(1))
    names = ["snip", "grad_norm", "fisher", "jacov", "naswot", "meco", "synflow", "params", "flops"]
    a = proxies.compute(space, [arch], (x, y), names=names, n_classes=3)
    b = proxies.compute(space, [arch], (x[perm], y[perm]), names=names, n_classes=3)
    for name in names:
        assert b[name].values[0] == pytest.approx(a[name].values[0], rel=1e-5, abs=1e-6), name
    other = proxies.compute(space, [arch], _vectors(torch, n=32, seed=5), names=["synflow"], n_classes=3)
    assert other["synflow"].values[0] == a["synflow"].values[0]


def test_a_proxy_does_not_depend_on_which_others_are_asked_for(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=2)
    net = space.build(space.make(layers=[["conv3x3", 16], ["sepconv3x3", 32]]), (1, 8, 8), 10)
    x, y = _images(torch)
    every = proxies.score(net, x, y)
    for name in GRADIENT_PROXIES:
        assert proxies.score(net, x, y, [name])[name] == every[name], name
        assert getattr(proxies, name)(net, x, y) == every[name], name


def test_the_network_is_left_as_it_was(torch, proxies):
    from nasbook.space import CellSpace

    space = CellSpace()
    net = space.build(space.sample(np.random.default_rng(0)), (1, 8, 8), 10)
    net.eval()
    frozen = next(net.parameters())
    frozen.requires_grad_(False)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    x, y = _images(torch)
    proxies.score(net, x, y)
    after = net.state_dict()
    assert before.keys() == after.keys()
    for k in before:
        assert torch.equal(before[k], after[k]), k  # BatchNorm running statistics included
        assert after[k].dtype == before[k].dtype  # synflow's float64 stayed on its copy
    assert not any(m.training for m in net.modules())
    assert frozen.requires_grad is False
    assert all(p.grad is None for p in net.parameters())


def test_unknown_proxy_names_the_parameter_and_the_allowed(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=2)
    with pytest.raises(InvalidParameterError, match=r"names=.*'synflw'.*Available: .*'synflow'.*did you mean 'synflow'"):
        proxies.compute(space, [space.sample(np.random.default_rng(0))], _images(torch), names=["synflw"])


def test_a_space_that_cannot_build_is_a_clear_error(torch, proxies):
    space = GraphSpace()
    with pytest.raises(NotBuildableError, match=r"compute\(space=...\) must be a space whose architectures build.*got GraphSpace"):
        proxies.compute(space, [space.sample(np.random.default_rng(0))], _images(torch), n_classes=10)


def test_a_batch_of_the_wrong_shape_is_a_clear_error(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=2)
    arch = space.sample(np.random.default_rng(0))
    x, y = _images(torch)
    with pytest.raises(InvalidParameterError, match=r"batch x must have shape \(n, \*input_shape\).*got shape \(32,\)"):
        proxies.compute(space, [arch], (y.float(), y))
    with pytest.raises(InvalidParameterError, match=r"batch y must be 32 integer labels.*got shape \(31,\)"):
        proxies.compute(space, [arch], (x, y[:31]))
    with pytest.raises(InvalidParameterError, match=r"an \(x, y\) pair"):
        proxies.compute(space, [arch], x)
    mlp = ChainSpace(kind="mlp")
    net = mlp.build(mlp.make(layers=[["relu", 32]]), (12,), 3)
    with pytest.raises(InvalidParameterError, match=r"does not fit the batch.*shape \(32, 1, 8, 8\)"):
        proxies.score(net, x, y)


def test_latency_reports_median_and_p95_and_restores_the_mode(torch, proxies):
    space = ChainSpace(kind="cnn", max_depth=2)
    net = space.build(space.make(layers=[["conv3x3", 16]]), (1, 8, 8), 10)
    net.train()
    lat = proxies.latency(net, (1, 8, 8), warmup=2, repeats=7)
    assert len(lat.times_ms) == 7 and 0 < lat.median_ms <= lat.p95_ms <= max(lat.times_ms)
    assert net.training
    with pytest.raises(InvalidParameterError, match=r"input_shape=\(3, 5\)"):
        proxies.latency(net, (3, 5), repeats=1)
    with pytest.raises(InvalidParameterError, match=r"repeats=...\) must be an int >= 1"):
        proxies.latency(net, (1, 8, 8), repeats=0)


def test_a_table_without_a_training_task_says_so():
    from nasbook.tasks import CurveTableTask

    with pytest.raises(NasbookError, match=r"training_task\(\).*pass a batch \(x, y\) or a TrainingTask"):
        CurveTableTask().training_task()


@pytest.mark.slow
def test_the_digits_table_gives_its_digits_task_and_real_batches(proxies):
    from nasbook.tasks import Digits, DigitsTable

    table = DigitsTable(seed=1)
    task = table.training_task()
    assert isinstance(task, Digits) and task.seed == 1 and task.max_epochs == table.max_epochs
    x, y = task.sample_batch(16, seed=0)
    assert tuple(x.shape) == (16, 1, 8, 8) and tuple(y.shape) == (16,)
    x2, _ = task.sample_batch(16, seed=0)
    x3, _ = task.sample_batch(16, seed=1)
    assert (x == x2).all() and not (x == x3).all()
    archs = table.space.members[:2]
    ds = proxies.compute(table.space, archs, table, names=["params", "flops", "naswot"], batch_size=16)
    assert ds["params"].values.tolist() == table.table.n_params[:2].tolist()  # the table's own counts
    assert ds["flops"].values.tolist() == table.table.flops[:2].tolist()
    assert ds.attrs["n_classes"] == 10 and ds.attrs["batch_size"] == 16


@pytest.mark.slow
def test_a_training_task_records_latency_as_a_metric():
    from nasbook.space import ChainSpace as Chain
    from nasbook.tasks import Digits

    space = Chain(kind="cnn", max_depth=1)
    task = Digits(max_epochs=1, latency=True)
    assert task.to_config()["params"]["latency"] is True
    assert "latency" not in Digits().to_config()["params"]  # configs written before the option are unchanged
    res = task.evaluate(space.make(layers=[["conv3x3", 16]]), space=space)
    assert res.metrics["latency_ms"] > 0 and res.attrs["latency_p95_ms"] >= res.metrics["latency_ms"]
    with pytest.raises(InvalidParameterError, match=r"latency=...\) must be True or False; got 'yes'"):
        Digits(latency="yes").check()


@pytest.mark.gpu
def test_a_network_on_a_gpu_is_scored_there_as_on_the_cpu(torch, proxies):
    # the batch follows the network to its device; naswot's K and synflow's all-ones input follow the batch
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from nasbook.space import CellSpace

    space = CellSpace()
    net = space.build(space.sample(np.random.default_rng(0)), (1, 8, 8), 10)
    x, y = _images(torch)
    on_cpu = proxies.score(net, x, y)
    on_gpu = proxies.score(net.cuda(), x, y)  # a CPU batch, a GPU network
    assert next(net.parameters()).device.type == "cuda"  # left where it was
    for name in GRADIENT_PROXIES:
        assert math.isfinite(on_gpu[name]), name
        assert on_gpu[name] == pytest.approx(on_cpu[name], rel=1e-3, abs=1e-6), name
