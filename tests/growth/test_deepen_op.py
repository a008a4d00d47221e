"""``Growth(deepen_op="largest")``: a deepen of the capacity rule inserts the op with the most weights."""

from __future__ import annotations

from collections import Counter

import pytest

from nasbook.growth import growth_moves
from nasbook.space import ChainSpace
from nasbook.strategies import Growth

SPACE = ChainSpace(kind="cnn", max_depth=4, widths=(8, 16, 32), ops=("conv3x3", "conv1x1", "sepconv3x3"))


def _deepens(deepen_op, parent, n=40):
    st = Growth(deepen_op=deepen_op)
    st.setup(SPACE, seed=0)
    moves = growth_moves(SPACE, parent)
    return [st._choose(parent, moves) for _ in range(n)]


def test_largest_inserts_the_op_with_the_most_weights():
    wide = SPACE.make(layers=[["conv1x1", 32], ["conv1x1", 32]])  # wide everywhere: the rule deepens
    chosen = _deepens("largest", wide)
    assert all(m.kind == "deepen" and m.params["op"] == "conv3x3" for m in chosen)
    assert len({m.params["position"] for m in chosen}) > 1  # the position stays random
    # the default draws the op at random: 1x1 and separable convolutions are inserted too
    assert set(Counter(m.params["op"] for m in _deepens("random", wide))) == {"conv3x3", "conv1x1", "sepconv3x3"}
    # without conv3x3 among the ops, sepconv3x3 (9c + cw weights) beats conv1x1 (cw)
    space = ChainSpace(kind="cnn", max_depth=3, widths=(8, 32), ops=("conv1x1", "sepconv3x3"))
    st = Growth(deepen_op="largest")
    st.setup(space, seed=1)
    parent = space.make(layers=[["conv1x1", 32]])
    assert {st._choose(parent, growth_moves(space, parent)).params["op"] for _ in range(20)} == {"sepconv3x3"}


def test_largest_leaves_widening_first():
    narrow = SPACE.make(layers=[["conv1x1", 8], ["conv3x3", 32]])
    assert {(m.kind, m.params.get("width")) for m in _deepens("largest", narrow, 10)} == {("widen", 32)}


def test_deepen_op_is_validated():
    for bad in ("biggest", None, 1):
        with pytest.raises(Exception, match="deepen_op"):
            Growth(deepen_op=bad).setup(SPACE, seed=0)
