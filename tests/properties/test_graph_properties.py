import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from nasbook._errors import InvalidArchitectureError
from nasbook.space import GNN_OPS, PROTEINS_OPS, GraphSpace
from nasbook.testing import architectures

SPACE = GraphSpace()
PROTEINS = GraphSpace(ops=PROTEINS_OPS)
KEYS = set(SPACE.keys.tolist())

raw_links = st.lists(st.integers(-1, 4), min_size=3, max_size=5)
raw_ops = st.lists(st.sampled_from(GNN_OPS + ("bogus",)), min_size=3, max_size=5)


@settings(max_examples=300, deadline=None)
@given(link=raw_links, ops=raw_ops)
def test_make_canonicalises_or_refuses(link, ops):
    try:
        arch = SPACE.make(link=link, ops=ops)
    except InvalidArchitectureError as exc:
        assert str(exc)  # a message, never a bare error
        return
    assert arch in SPACE
    assert SPACE.make(**arch.to_dict()) == arch
    assert int(arch.id) in KEYS


@settings(max_examples=100, deadline=None)
@given(arch=architectures(SPACE), seed=st.integers(0, 2**32 - 1))
def test_moves_and_encodings_stay_valid(arch, seed):
    rng = np.random.default_rng(seed)
    child = SPACE.mutate(arch, rng)
    assert child in SPACE and child != arch
    for kind in ("adjacency", "path"):
        vec = SPACE.encode(arch, kind)
        assert vec.shape == (SPACE.encoding_size(kind),) and np.isfinite(vec).all()
    assert all(n in SPACE for n in SPACE.neighbours(arch))


@settings(max_examples=100, deadline=None)
@given(arch=architectures(PROTEINS))
def test_proteins_space_is_closed(arch):
    assert set(arch["ops"]) <= set(PROTEINS_OPS)
    assert arch in PROTEINS and arch not in SPACE
