"""The faster proxies compute what the slower ones did: every proxy's value on fixed small networks
against (1) the values pinned in ``reference_values.json`` (computed by the proxies code before the
speed-up, nasbook commit 8b7c194) and (2) that code itself, frozen in ``benchmarks/_proxies_v1.py``
and run here on the same machine (so no CPU's kernels are baked in). Plus the exact pieces the
faster passes are built from. Round 3 changed where jacov, naswot and meco come from by default
(``jacobian_batch="halves"``, pinned in ``reference_values_halves.json``); ``"full"`` keeps the
earlier definition, and both are tested. Torch is imported inside the tests (collection stays light)."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from _reference_cases import cases, values  # noqa: E402

sys.path.remove(str(HERE))


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def old(torch):
    """The proxies code before the speed-up (benchmarks/_proxies_v1.py)."""
    spec = importlib.util.spec_from_file_location("_proxies_v1", ROOT / "benchmarks" / "_proxies_v1.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _close(got: float, want: float, rel: float, abs_: float) -> bool:
    if math.isinf(want) or math.isnan(want):
        return got == want or (math.isnan(got) and math.isnan(want))
    return abs(got - want) <= max(rel * abs(want), abs_)


#: tolerance against the pinned values for proxies that magnify float32 rounding: ZiCo divides by the
#: spread of two batches' gradients, |g1 - g2|, a difference of nearly equal numbers, so another CPU's
#: kernels move it by up to 3e-5 relative (measured on an AMD EPYC against the pinning machine), where
#: the other proxies agree within 2e-7; a change of definition moves it by far more. The exact check
#: is the next test, which runs the old code beside the new on the same machine.
PINNED_REL = {"zico": 2e-4}

#: the proxies whose definition the default jacobian_batch="halves" changed (round 3)
FORWARD = ("jacov", "naswot", "meco")


@pytest.mark.parametrize("jacobian_batch", ["full", "halves"])
def test_every_proxy_equals_the_value_pinned_from_the_code_before_the_speed_up(torch, jacobian_batch):
    """``"full"``: every proxy as before the speed-up; ``"halves"`` (the default): the same for all
    but jacov, naswot and meco, which are pinned to their values from the half-batch passes."""
    want = json.loads((HERE / "reference_values.json").read_text())
    if jacobian_batch == "halves":
        for case, pinned in json.loads((HERE / "reference_values_halves.json").read_text()).items():
            assert set(pinned) == set(FORWARD)
            want[case].update(pinned)
    got = values(jacobian_batch)
    assert got.keys() == want.keys()
    for case in want:
        assert got[case].keys() == want[case].keys(), case
        for name, w in want[case].items():
            # room for another CPU's kernels (on the machine that pinned them they agree to 1e-15)
            rel = PINNED_REL.get(name, 1e-6)
            assert _close(got[case][name], w, rel=rel, abs_=1e-9), (case, name, got[case][name], w, rel)


def test_every_proxy_equals_the_code_before_the_speed_up_run_alongside(torch, old):
    """``jacobian_batch="full"``: all ten as the old code; the default: all but jacov, naswot, meco."""
    from nasbook import proxies
    from nasbook._seeding import seeded

    names = list(proxies.PROXIES)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for case, net, x, y in cases():
            next(net.parameters()).requires_grad_(False)  # a frozen parameter: synflow and params leave it out
            with seeded(0):
                want = old.score_network(net, x, y, names)
            got = proxies.score(net, x, y, seed=0, jacobian_batch="full")
            default = proxies.score(net, x, y, seed=0)
            for name in names:
                assert _close(got[name], want[name], rel=1e-9, abs_=1e-12), (case, name, got[name], want[name])
                if name not in FORWARD:
                    assert default[name] == got[name], (case, name)
    finally:
        torch.set_num_threads(threads)


def test_halves_and_full_batch_agree_where_samples_do_not_interact(torch):
    """Without BatchNorm or dropout a sample's activations and input gradient do not depend on the
    other samples, so jacov, naswot and meco from the two halves equal the full-batch values (the
    halves' codes and position-free outputs are joined in sample order; MeCo's feature maps are the
    first sample's); with BatchNorm they differ (per-half statistics)."""
    from torch import nn

    from nasbook import proxies

    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(30, 1, 8, 8, generator=g), torch.randint(0, 4, (30,), generator=g)
    torch.manual_seed(7)
    plain = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU(), nn.Conv2d(6, 8, 3), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 36, 16), nn.ReLU(), nn.Linear(16, 4))
    full = proxies.score(plain, x, y, list(FORWARD), jacobian_batch="full")
    halves = proxies.score(plain, x, y, list(FORWARD))
    for name in FORWARD:
        assert halves[name] == pytest.approx(full[name], rel=1e-9), name
    torch.manual_seed(7)
    normed = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(384, 4))
    full = proxies.score(normed, x, y, list(FORWARD), jacobian_batch="full")
    halves = proxies.score(normed, x, y, list(FORWARD))
    assert halves["naswot"] != full["naswot"] and halves["jacov"] != full["jacov"]


def test_jacobian_batch_must_be_a_known_choice(torch):
    from nasbook import proxies
    from nasbook._errors import InvalidParameterError

    net = torch.nn.Sequential(torch.nn.Linear(3, 2))
    with pytest.raises(InvalidParameterError, match=r"jacobian_batch.*'half'.*'full', 'halves'"):
        proxies.score(net, torch.randn(4, 3), torch.tensor([0, 1, 0, 1]), jacobian_batch="half")


def test_naswot_agreements_are_exact_over_groups_and_in_float64_for_a_large_code(torch, monkeypatch):
    from nasbook.proxies import _zc

    g = torch.Generator().manual_seed(0)
    codes = [torch.rand(9, units, generator=g) > 0.5 for units in (5, 40, 7, 64, 3)]
    c = torch.cat(codes, dim=1).double()
    want = c @ c.T + (1 - c) @ (1 - c).T  # the published definition
    assert torch.equal(_zc._agreements(codes, 9), want)
    monkeypatch.setattr(_zc, "_EXACT_UNITS", 50)  # several groups, and one code (64 units) in float64
    assert torch.equal(_zc._agreements(codes, 9), want)
    assert torch.equal(_zc._agreements([], 9), torch.zeros(9, 9, dtype=torch.float64))


def test_zico_of_two_batches_is_the_std_formula(torch):
    from nasbook.proxies import _zc

    g = torch.Generator().manual_seed(1)
    layers = [[torch.randn(4, 3, generator=g) for _ in range(2)] for _ in range(3)]
    layers[1][1] = layers[1][0].clone()  # std 0 everywhere: the layer adds nothing
    layers[2][1][0, 0] = layers[2][0][0, 0]  # one weight with std 0: left out of its layer's sum
    want = 0.0
    for gs in layers:
        s = torch.stack([t.reshape(-1).double() for t in gs])
        std, mean_abs = s.std(0, unbiased=False), s.abs().mean(0)
        total = float((mean_abs[std > 0] / std[std > 0]).sum())
        want += math.log(total) if total > 0 else 0.0
    assert _zc._zico(layers) == pytest.approx(want, rel=1e-14)
    three = [[torch.randn(5, generator=g) for _ in range(3)]]
    s = torch.stack([t.double() for t in three[0]])
    assert _zc._zico(three) == pytest.approx(math.log(float((s.abs().mean(0) / s.std(0, unbiased=False)).sum())))


def test_flops_are_the_same_alone_and_counted_in_synflows_pass(torch):
    from nasbook import proxies
    from nasbook.space import CellSpace

    space = CellSpace()
    net = space.build(space.sample(np.random.default_rng(3)), (1, 8, 8), 10)
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,))
    alone = proxies.score(net, x, y, ["flops"])["flops"]
    assert alone == proxies.score(net, x, y, ["synflow", "flops"])["flops"] == proxies.count_flops(net, x)


def test_synflow_leaves_batchnorm_eps_hooks_and_dtypes_as_they_were(torch):
    from nasbook import proxies
    from nasbook.space import CellSpace

    space = CellSpace()
    net = space.build(space.sample(np.random.default_rng(4)), (1, 8, 8), 10)
    bns = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    eps = [m.eps for m in bns]
    proxies.score(net, torch.randn(16, 1, 8, 8), torch.randint(0, 10, (16,)))
    assert [m.eps for m in bns] == eps and all(e > 0 for e in eps)
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in net.modules())
    assert all(v.dtype == torch.float32 for v in net.state_dict().values() if v.is_floating_point())
    assert net.training  # built in train mode, left so
