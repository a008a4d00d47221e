"""Growth's public functions take numpy integers as they take ints, and refuse what they silently misused
(outside probe 4: ``benchmarks/outside_probe4.py``, parts growth and settle). torch and nasbook.growth are
imported in the tests, not at collection (tests/test_collection.py)."""
import json

import numpy as np
import pytest

from nasbook import InvalidParameterError
from nasbook.space import CellSpace, ChainSpace

CNN = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32), ops=("conv3x3", "conv1x1"))
CELL = CellSpace(n_nodes=4, channels=4, n_cells=1, n_stages=1)


def test_moves_take_numpy_ints_and_store_plain_ones():
    from nasbook.growth import add_edge, deepen, growth_moves, make_move, widen

    a = CNN.make(layers=[["conv3x3", 8], ["conv1x1", 16]])
    assert deepen(CNN, a, np.int64(1)).child == deepen(CNN, a, 1).child
    assert widen(CNN, a, np.int64(0), np.int64(32)).child == widen(CNN, a, 0, 32).child
    assert json.dumps(deepen(CNN, a, np.int64(2)).to_dict()) == '{"kind": "deepen", "position": 2, "op": "conv3x3"}'
    assert json.dumps(widen(CNN, a, np.int64(1)).to_dict()) == '{"kind": "widen", "layer": 1, "width": 32}'
    c = CELL.make(edges=["nor_conv_3x3", "none", "none", "none", "nor_conv_3x3", "none"])
    (k,) = [k for k, m in enumerate(growth_moves(CELL, c)) if m.params["op"] == "skip_connect"]
    move = growth_moves(CELL, c)[k]
    edge = move.params["edge"]
    i, j = CELL.edges[edge]
    for given in (np.int64(edge), (np.int64(i), np.int64(j)), [i, j]):
        assert add_edge(CELL, c, given, "skip_connect").child == move.child
    assert type(add_edge(CELL, c, np.int64(edge), "skip_connect").params["edge"]) is int
    for m in growth_moves(CNN, a):  # a move rebuilt from numpy fields (a loop over np.arange) is the same move
        numpy_fields = {key: np.int64(v) if isinstance(v, int) else v for key, v in m.to_dict().items()}
        assert make_move(CNN, a, numpy_fields).child == m.child


def test_moves_refuse_a_float_width_as_they_refuse_a_float_position():
    from nasbook.growth import deepen, widen

    a = CNN.make(layers=[["conv3x3", 8]])
    with pytest.raises(InvalidParameterError, match="width"):
        widen(CNN, a, 0, 32.0)
    with pytest.raises(InvalidParameterError, match="position"):
        deepen(CNN, a, 1.0)


def test_blend_refuses_an_unknown_mode_and_an_alpha_outside_0_1():
    import torch

    from nasbook.growth import blend

    x, gx = torch.randn(2, 3), torch.randn(2, 3)
    with pytest.raises(InvalidParameterError, match=r"blend\(mode=...\) 'sum'"):
        blend(x, gx, 0.5, "sum")  # it blended as 'add', silently
    for alpha in (1.5, -0.1, float("nan")):
        with pytest.raises(InvalidParameterError, match="alpha"):
            blend(x, gx, alpha)
    assert torch.allclose(blend(x, gx, np.float64(0.25)), x + 0.25 * (gx - x))


def test_settle_epochs_checks_its_arguments():
    from nasbook.growth import AlphaSchedule, settle_epochs

    sched = AlphaSchedule("linear", 3, "epoch")
    assert settle_epochs(np.int64(2), sched, np.int64(1)) == 6
    for args, word in (((0, sched), "patience"), ((-2, sched), "patience"), ((2.5, sched), "patience"),
                       (("3", sched), "patience"), ((2, "linear"), "schedule"), ((2, sched, -1), "delay_epochs")):
        with pytest.raises(InvalidParameterError, match=word):
            settle_epochs(*args)


def test_seed_lifecycle_and_controller_check_their_arguments():
    from nasbook.growth import AlphaSchedule, Lifecycle, Seed, SeedController, Stage

    site = [{"mode": "lerp", "first": "0", "last": "0"}]
    with pytest.raises(InvalidParameterError, match="schedule"):
        Seed("s", site, "linear")
    with pytest.raises(InvalidParameterError, match="stage"):
        Seed("s", site, AlphaSchedule(), 9)
    with pytest.raises(InvalidParameterError, match="schedule"):
        Lifecycle(None)
    assert Seed("s", site, AlphaSchedule("linear", 4), Stage.BLENDING, np.int64(2)).alpha == 0.5
    ctl = SeedController([], patience=np.int64(2), delay_epochs=np.int64(1), gate_tolerance=np.float32(0.1),
                         lr=np.float32(1e-3), cycle={"warmup": np.float32(0.25), "floor": np.int64(0)})
    assert (type(ctl.patience), type(ctl.delay_epochs), ctl.cycle) == (int, int, {"warmup": 0.25, "floor": 0.0})
    for kw in ({"lr": 0.0}, {"lr": -1e-3}, {"lr": "fast"}):
        with pytest.raises(InvalidParameterError, match="lr"):
            SeedController([], **kw)


def test_grow_network_checks_its_seed_and_schedule():
    import torch

    from nasbook.growth import deepen, grow_network

    space = ChainSpace(kind="mlp", max_depth=2, widths=(8,), ops=("relu",))
    arch = space.make(layers=[["relu", 8]])
    parent = space.build(arch, (4,), 3)
    move = deepen(space, arch, 1)
    child, _ = grow_network(space, move, parent, (4,), np.int64(3), seed=np.int64(5))
    assert child(torch.randn(2, 4)).shape == (2, 3)
    for kw, word in (({"seed": 1.5}, "seed"), ({"seed": -1}, "seed"), ({"schedule": "linear"}, "schedule")):
        with pytest.raises(InvalidParameterError, match=word):
            grow_network(space, move, parent, (4,), 3, **kw)
