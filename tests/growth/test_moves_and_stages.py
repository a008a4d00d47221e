"""Growth moves (architecture level) and the seed life cycle: no torch needed."""

from __future__ import annotations

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.growth import (
    TRANSITIONS,
    AlphaSchedule,
    IllegalTransitionError,
    Lifecycle,
    Stage,
    add_edge,
    deepen,
    growth_moves,
    make_move,
    widen,
)
from nasbook.space import CellSpace, ChainSpace, GraphSpace

CHAIN = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32))
CELL = CellSpace(channels=4, n_cells=2, n_stages=1)


def test_every_move_gives_a_member_of_the_space_that_is_not_the_parent():
    rng = np.random.default_rng(0)
    for space in (CHAIN, ChainSpace(kind="mlp", max_depth=3), CELL):
        for _ in range(20):
            arch = space.sample(rng)
            for move in growth_moves(space, arch):
                assert move.child in space and move.child != arch and move.parent == arch
                assert make_move(space, arch, move.to_dict()).child == move.child


def test_deepen_and_widen_change_what_they_say():
    a = CHAIN.make(layers=[["conv3x3", 8], ["conv5x5", 16]])
    d = deepen(CHAIN, a, 1, "sepconv3x3")
    assert d.child["layers"] == [["conv3x3", 8], ["sepconv3x3", 8], ["conv5x5", 16]]
    w = widen(CHAIN, a, 0)
    assert w.child["layers"] == [["conv3x3", 16], ["conv5x5", 16]]
    assert growth_moves(GraphSpace(), GraphSpace().sample(np.random.default_rng(0))) == []


def test_bad_input_raises_clear_errors():
    a = CHAIN.make(layers=[["conv3x3", 8], ["conv5x5", 32]])
    other = ChainSpace(kind="mlp").make(layers=[["relu", 32]])
    with pytest.raises(InvalidArchitectureError, match="not a member"):
        deepen(CHAIN, other, 1)
    with pytest.raises(InvalidParameterError, match="layer=...\\) must be the index of an existing layer, 0 to 1; got 5"):
        widen(CHAIN, a, 5)
    with pytest.raises(InvalidParameterError, match="largest width"):
        widen(CHAIN, a, 1)
    with pytest.raises(InvalidParameterError, match="position"):
        deepen(CHAIN, a, 0)
    with pytest.raises(InvalidParameterError, match="op"):
        deepen(CHAIN, a, 1, "maxpool_conv3x3")
    with pytest.raises(InvalidParameterError, match="CellSpace"):
        widen(CELL, CELL.sample(np.random.default_rng(0)), 0)
    with pytest.raises(InvalidParameterError, match="ChainSpace or a CellSpace"):
        deepen(GraphSpace(), a, 1)  # type: ignore[arg-type]
    cell = CELL.make(edges=["none", "none", "nor_conv_3x3", "none", "none", "none"])
    with pytest.raises(InvalidParameterError, match="already carries"):
        add_edge(CELL, cell, (0, 3), "skip_connect")
    with pytest.raises(InvalidParameterError, match="does not use"):
        add_edge(CELL, cell, (0, 1), "skip_connect")
    with pytest.raises(InvalidParameterError, match="must be one of the cell's edges"):
        add_edge(CELL, cell, (2, 9), "skip_connect")
    with pytest.raises(InvalidParameterError, match="'kind'"):
        make_move(CHAIN, a, {"kind": "shrink"})


def test_the_transition_table_is_enforced():
    life = Lifecycle(AlphaSchedule("linear", 2))
    with pytest.raises(IllegalTransitionError, match="DORMANT to ACTIVE"):
        life.advance(Stage.ACTIVE)
    life.advance(Stage.TRAINING)
    life.advance(Stage.BLENDING)
    with pytest.raises(IllegalTransitionError, match="BLENDING to CULLED"):
        life.advance(Stage.CULLED)
    assert life.alpha == 0.0
    life.step_alpha()
    assert life.alpha == 0.5 and life.stage is Stage.BLENDING
    life.step_alpha()
    assert life.alpha == 1.0 and life.stage is Stage.ACTIVE
    with pytest.raises(IllegalTransitionError):
        life.step_alpha()
    for stage, targets in TRANSITIONS.items():
        for to in Stage:
            life = Lifecycle(AlphaSchedule(), stage)
            if to in targets:
                life.advance(to)
            else:
                with pytest.raises(IllegalTransitionError):
                    life.advance(to)


@pytest.mark.parametrize("shape", ["linear", "cosine"])
@pytest.mark.parametrize("length", [1, 2, 7, 50])
def test_schedules_rise_monotonically_and_end_at_exactly_one(shape, length):
    s = AlphaSchedule(shape, length)
    values = [s.alpha(k) for k in range(length + 3)]
    assert values[0] == 0.0 and values[length] == 1.0 and values[-1] == 1.0
    assert all(a <= b for a, b in zip(values, values[1:]))


def test_a_schedule_that_does_not_end_at_one_is_rejected():
    with pytest.raises(InvalidParameterError, match="end at exactly alpha=1"):
        AlphaSchedule(lambda t: 0.9 * t, 10)
    with pytest.raises(InvalidParameterError, match="monotonically"):
        AlphaSchedule(lambda t: 1.0 if t < 0.5 else 0.2 + 0.8 * t, 10)
    with pytest.raises(InvalidParameterError, match="every"):
        AlphaSchedule("linear", 10, every="hour")
    with pytest.raises(InvalidParameterError, match="shape"):
        AlphaSchedule("exp", 10)
    assert AlphaSchedule(lambda t: t * t, 4).alpha(4) == 1.0
