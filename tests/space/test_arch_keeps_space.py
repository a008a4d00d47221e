"""An architecture keeps the space that made it: ``archs = task.space.sample(...)`` drops the task and its space,
and the predictors, the knowledge base and the reprs still find that space (they failed with 'no longer in memory').
The reference is no part of the architecture's identity: equality, hashing and pickles are those of its spec."""

import copy
import gc
import pickle
import weakref

import numpy as np
import pytest

import nasbook
from nasbook.space import (
    Architecture,
    CellSpace,
    ChainSpace,
    ConvDenseSpace,
    GraphSpace,
    SearchSpace,
    SubsetSpace,
    live_space,
    stable_hash,
)
from nasbook.testing import ToyTask


class OrderSpace(SearchSpace):
    """A space of its own (no registered class, so nothing rebuilds it): it makes ``Architecture(self.space_id, ...)``."""

    name = "order-keeps"

    def __init__(self, steps=("a", "b", "c")):
        self.steps = tuple(steps)

    def make(self, **spec):
        order = [str(s) for s in spec["order"]]
        return Architecture(self.space_id, stable_hash(order), {"order": order})

    @property
    def cardinality(self):
        return 6

    def sample(self, rng):
        return self.make(order=list(rng.permutation(list(self.steps))))

    def neighbours(self, arch):
        order = arch["order"]
        return [self.make(order=order[:i] + [order[i + 1], order[i]] + order[i + 2:]) for i in range(len(order) - 1)]

    def _encode(self, arch, kind):
        return np.array([self.steps.index(s) for s in arch["order"]], dtype=np.float32)

    def _encoding_size(self, kind):
        return len(self.steps)


def test_the_issue_snippet_fits_a_predictor_on_architectures_whose_task_is_gone():
    from nasbook.tasks import NasBenchGraph

    archs = NasBenchGraph("cora").space.enumerate()  # the task and its space are temporaries
    gc.collect()
    fitted = nasbook.Predictor(model="gp", calibration="none", seed=0).fit(archs[:30], np.arange(30.0))
    assert fitted.predict(archs[30:33]).sizes["arch"] == 3


def test_every_builtin_space_hands_out_architectures_that_keep_it():
    rng = np.random.default_rng(0)
    chain = ChainSpace(kind="mlp", max_depth=2, widths=(8, 16), ops=("relu",))
    spaces = [CellSpace(n_nodes=3, ops=("skip_connect", "nor_conv_3x3")), chain, GraphSpace(), ConvDenseSpace(max_conv=1, max_dense=1),
              SubsetSpace(chain, [chain.make(layers=[["relu", 8]]), chain.make(layers=[["relu", 16]])]), OrderSpace()]
    for space in spaces:
        arch = space.sample(rng)
        made = [arch, space.make(**arch.spec), space.from_dict(arch.to_dict()), space.mutate(arch, rng),
                *space.neighbours(arch)[:3]]
        if space.cardinality <= 3000:
            made += space.enumerate()[:3]
        for a in made:
            assert live_space(a) is space, (type(space).__name__, a)


def test_architectures_keep_their_space_alive_and_no_longer():
    arch = GraphSpace(ops=("gcn", "gat", "skip")).sample(np.random.default_rng(1))
    ref = weakref.ref(live_space(arch))
    gc.collect()
    assert ref() is not None and live_space(arch) is ref()
    del arch
    gc.collect()
    assert ref() is None  # the space goes with the last of its architectures


def test_the_reference_is_no_part_of_equality_hashing_or_pickles():
    pytest.importorskip("cloudpickle")
    import cloudpickle

    space = CellSpace(n_nodes=4)
    arch = space.sample(np.random.default_rng(2))
    bare = Architecture._trusted(arch.space_id, arch.id, arch._spec, None)  # the same point, keeping no space
    assert live_space(bare) is space  # found by id while the space is in memory, not kept
    assert arch == bare and hash(arch) == hash(bare) and arch.to_json() == bare.to_json()
    assert arch == CellSpace(n_nodes=4).make(**arch.spec)  # an equal space's architecture is equal
    for dumps in (pickle.dumps, cloudpickle.dumps):
        blob = dumps(arch)
        assert blob == dumps(bare) and len(blob) < 400  # the spec alone: a dask worker never receives the space
        assert b"CellSpace" not in blob
        assert pickle.loads(blob) == arch
    assert copy.copy(arch) is arch and copy.deepcopy([arch])[0] is arch  # immutable: a copy keeps its space
    with pytest.raises(nasbook.InvalidParameterError, match=r"Architecture\(space=\.\.\.\)"):
        Architecture("cell-00000000", "x", {"a": 1}, space=space)


def test_an_architecture_rebuilt_with_no_space_in_memory_still_asks_for_space():
    blob = pickle.dumps(OrderSpace(steps=("x", "y")).sample(np.random.default_rng(3)))
    gc.collect()
    orphan = pickle.loads(blob)  # as from storage or another process: no space with its id is in memory
    assert live_space(orphan) is None
    with pytest.raises(nasbook.InvalidParameterError, match=r"is not in memory .*pass it as space="):
        nasbook.Predictor(model="gp").fit([orphan, orphan], [0.0, 1.0])
    space = OrderSpace(steps=("x", "y"))
    assert live_space(orphan) is space  # an equal space made later serves it


def test_kb_similar_answers_for_an_architecture_whose_own_space_is_gone(tmp_path):
    kb = nasbook.KnowledgeBase(tmp_path / "kb.db")
    space = OrderSpace(steps=("p", "q", "r", "s"))
    nasbook.Search(space, ToyTask(space), strategy="random", budget=8, seed=0, storage=":memory:", kb=kb,
                   name="kept").run(progress="none")
    del space
    gc.collect()
    query = OrderSpace(steps=("p", "q", "r", "s")).sample(np.random.default_rng(4))  # its space a temporary
    gc.collect()
    near = nasbook.KnowledgeBase(tmp_path / "kb.db").similar(query, k=3)
    assert len(near) == 3 and near["distance"].is_monotonic_increasing
