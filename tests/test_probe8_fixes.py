"""Defects benchmarks/outside_probe8.py found: ``encode_many`` given one architecture, None or a generator failed
with a raw KeyError / TypeError (a generator only on some spaces and kinds); ``GraphSpace`` with its ops listed in
another order was another space (another ``space_id``) although its encodings and ids are the same;
``CellSpace.make(edges=<numpy array>)`` was refused with a message spanning lines; ``from_string(None)`` did not name
``text``; ``SubsetSpace.index(42)`` raised AttributeError; ``evaluate(report=<not callable>)`` failed with a raw
TypeError after the first epoch had trained; ``Digits(split_seed=2**32)`` was accepted and failed at the first
trial with scikit-learn's error."""
import numpy as np
import pytest

from nasbook import InvalidArchitectureError, InvalidParameterError, NasbookError
from nasbook.space import CellSpace, ChainSpace, ConvDenseSpace, GraphSpace, SubsetSpace
from nasbook.tasks import MNIST1D, BreastCancer, Digits, DigitsTable

CELL = CellSpace()
SPACES = [GraphSpace(), CELL, ChainSpace(kind="mlp", max_depth=2), ConvDenseSpace(),
          SubsetSpace(CELL, [CELL.sample(np.random.default_rng(i)) for i in range(3)])]


@pytest.mark.parametrize("space", SPACES, ids=lambda s: type(s).__name__)
@pytest.mark.parametrize("bad", ["one", None, 42, "abc"])
def test_encode_many_refuses_what_is_not_a_list_naming_archs(space, bad):
    arch = space.sample(np.random.default_rng(0))
    for kind in space.encodings:
        with pytest.raises(InvalidParameterError, match=r"encode_many\(archs=\.\.\.\) must be a list of architectures") as e:
            space.encode_many(arch if bad == "one" else bad, kind)
        assert "\n" not in str(e.value)
        if bad == "one":
            assert "Pass [arch] for one architecture" in str(e.value)


@pytest.mark.parametrize("space", SPACES, ids=lambda s: type(s).__name__)
def test_encode_many_of_a_generator_is_encode_many_of_its_list(space):
    archs = [space.sample(np.random.default_rng(i)) for i in range(4)]
    for kind in space.encodings:
        np.testing.assert_array_equal(space.encode_many(a for a in archs), space.encode_many(archs))
        np.testing.assert_array_equal(space.encode_many((a for a in archs), kind), space.encode_many(archs, kind))


def test_graph_space_ops_in_another_order_is_the_same_space():
    a, b = GraphSpace(ops=["gcn", "gat", "skip"]), GraphSpace(ops=["gat", "skip", "gcn"])
    assert a.space_id == b.space_id and a == b and hash(a) == hash(b)
    arch = a.make(link=[0, 0, 1, 2], ops=["gcn", "gat", "gcn", "skip"])
    assert arch in b and b.make(**arch.spec) == arch
    assert a.encoding_version("graf") == b.encoding_version("graf")
    # the built-in orders keep their ids (stored searches name them)
    assert GraphSpace().space_id == "graph-70c5b6f2"
    assert GraphSpace(ops=("gcn", "sage", "arma", "fc", "skip")).space_id == "graph-069c2190"
    assert GraphSpace(ops=["gcn", "gat"]) != GraphSpace(ops=["gcn", "gat", "skip"])


def test_cell_make_takes_a_numpy_array_of_op_names_and_refuses_others_on_one_line():
    edges = ["nor_conv_3x3", "none", "skip_connect", "none", "none", "nor_conv_1x1"]
    assert CELL.make(edges=np.array(edges)) == CELL.make(edges=edges)
    with pytest.raises(InvalidArchitectureError) as e:
        CELL.make(edges=np.array([edges, edges]))
    assert "\n" not in str(e.value) and "edges" in str(e.value)


@pytest.mark.parametrize("text", [None, b"|none~0|", 3])
def test_from_string_names_text(text):
    with pytest.raises(InvalidArchitectureError, match=r"from_string\(text=\.\.\.\) takes a string"):
        CELL.from_string(text)


def test_subset_index_of_a_non_architecture_is_refused():
    sub = SPACES[-1]
    with pytest.raises(InvalidParameterError, match=r"SubsetSpace.index\(arch=\.\.\.\).*got 42 of type int"):
        sub.index(42)
    assert sub.index(sub.members[1]) == 1 and sub.index(sub.ids[2]) == 2


def test_table_evaluate_refuses_a_report_that_is_not_callable():
    t = DigitsTable()
    arch = t.space.sample(np.random.default_rng(0))
    with pytest.raises(InvalidParameterError, match=r"DigitsTable.evaluate\(report=\.\.\.\) must be None or a function"):
        t.evaluate(arch, space=t.space, report="x")


def test_training_evaluate_refuses_a_report_that_is_not_callable_before_training(monkeypatch):
    from nasbook.tasks import _training

    def no_data(*a, **k):  # the refusal comes before any data is loaded or anything trains
        raise AssertionError("loaded data")

    monkeypatch.setattr(_training, "load_data_info", no_data)
    space = ChainSpace(kind="mlp", max_depth=1)
    task = Digits(max_epochs=1)
    with pytest.raises(InvalidParameterError, match=r"Digits.evaluate\(report=\.\.\.\) must be None or a function.*got 42 of type int"):
        task.evaluate(space.make(layers=[["relu", 32]]), space=space, report=42)


@pytest.mark.parametrize("cls", [Digits, MNIST1D, BreastCancer])
def test_split_seed_beyond_scikit_learns_range_is_refused_at_construction(cls):
    assert cls(split_seed=2**32 - 1).split_seed == 2**32 - 1
    for bad in (2**32, 2**40):
        with pytest.raises(InvalidParameterError, match=r"split_seed=\.\.\.\) must be an int from 0 to 2\*\*32 - 1") as e:
            cls(split_seed=bad)
        assert isinstance(e.value, NasbookError) and str(bad) in str(e.value)
    task = cls()
    task.split_seed = 2**32  # changed after construction: check() (run before every evaluate) refuses it
    with pytest.raises(InvalidParameterError, match="split_seed"):
        task.check()
