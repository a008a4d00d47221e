"""``proxies.score`` (and the one-proxy functions) refuse bad labels, seeds and networks in one line naming them
(outside probe 4: labels -1 or past the network's outputs came out as cross-entropy's raw IndexError, a seed
of 1.5 or -1 was taken, an Architecture for ``net`` raised AttributeError). nasbook.proxies (torch) is imported in the tests, not at
collection (tests/test_collection.py)."""
import numpy as np
import pytest

from nasbook import InvalidParameterError
from nasbook.space import ChainSpace

SPACE = ChainSpace(kind="mlp", max_depth=1, widths=(8,), ops=("relu",))
ARCH = SPACE.make(layers=[["relu", 8]])


def _batch():
    rng = np.random.default_rng(435)
    return rng.normal(size=(10, 5)).astype(np.float32), rng.integers(0, 3, size=10)


@pytest.mark.parametrize("fn", ["score", "snip"])
@pytest.mark.parametrize("shift", [-1, 3])
def test_labels_outside_the_network_outputs_are_refused_naming_them(fn, shift):
    from nasbook import proxies

    fn = getattr(proxies, fn)
    x, y = _batch()
    with pytest.raises(InvalidParameterError, match="labels") as err:
        fn(SPACE.build(ARCH, (5,), 3), x, y + shift)
    assert len(str(err.value).splitlines()) == 1


def test_string_labels_are_named_as_labels():
    from nasbook import proxies

    x, _ = _batch()
    with pytest.raises(InvalidParameterError, match="y must hold integer labels"):
        proxies.score(SPACE.build(ARCH, (5,), 3), x, np.array(["a"] * 10))


def test_score_checks_seed_and_net_and_takes_a_numpy_seed():
    from nasbook import proxies

    x, y = _batch()
    net = SPACE.build(ARCH, (5,), 3)
    assert proxies.score(net, x, y, names="snip", seed=np.int64(7)) == proxies.score(net, x, y, names="snip", seed=7)
    for seed in (1.5, -1):
        with pytest.raises(InvalidParameterError, match="seed"):
            proxies.score(net, x, y, seed=seed)
    with pytest.raises(InvalidParameterError, match=r"score\(net=...\)"):
        proxies.score(ARCH, x, y)
