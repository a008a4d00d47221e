import pickle

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError
from nasbook.space import GraphSpace
from nasbook.tasks import NBG_DATASETS, NasBenchGraph
from nasbook.tasks._nbg import load_table_bytes


@pytest.mark.parametrize("dataset", NBG_DATASETS)
def test_tables_load_through_the_restricted_unpickler(dataset):
    table = NasBenchGraph(dataset).table
    n = 2021 if dataset == "proteins" else 26206
    assert len(table.keys) == n
    for col in (table.valid, table.test, table.latency_s, table.params_m):
        assert col.shape == (n,) and np.isfinite(col).all()
    assert 0.0 < table.valid.min() <= table.valid.max() <= 1.0


def test_objective_is_validation_and_held_out_numbers_are_attrs(rng):
    task = NasBenchGraph("cora")
    arch = task.space.sample(rng)
    res = task.evaluate(arch)
    i = task.table.row(int(arch.id))
    assert res.value == task.table.valid[i]
    assert res.attrs["test_accuracy"] == task.table.test[i]
    assert res.attrs["latency_ms"] == pytest.approx(task.table.latency_s[i] * 1e3)
    assert "params_m" in res.attrs and not res.metrics
    assert NasBenchGraph("proteins").metric == "val_roc_auc"


def test_optimum_is_the_best_validation_row():
    task = NasBenchGraph("citeseer")
    arch, value = task.optimum()
    assert value == task.table.valid.max()
    assert task.evaluate(arch).value == value


def test_unknown_dataset_says_what_is_allowed():
    with pytest.raises(InvalidParameterError, match=r"Unknown NAS-Bench-Graph dataset 'Cora'.*'cora'.*did you mean"):
        NasBenchGraph("Cora")
    with pytest.raises(InvalidParameterError, match=r"dataset=\.\.\.\) must be a dataset name.*got 3 of type int"):
        NasBenchGraph(3)


def test_architecture_of_another_space_is_refused():
    proteins = NasBenchGraph("proteins")
    cora_arch = NasBenchGraph("cora").space.make(link=[0, 0, 1, 2], ops=["gat", "gcn", "gin", "cheb"])
    with pytest.raises(InvalidArchitectureError, match="belongs to space"):
        proteins.evaluate(cora_arch)


def test_task_pickles_small():
    task = NasBenchGraph("pubmed")
    assert len(task.table.keys)  # a loaded table is not shipped to workers
    blob = pickle.dumps(task)
    assert len(blob) < 500
    assert pickle.loads(blob).dataset == "pubmed"


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_restricted_unpickler_refuses_code():
    with pytest.raises(pickle.UnpicklingError, match="refusing global"):
        load_table_bytes(pickle.dumps({1: _Evil()}))
    with pytest.raises(pickle.UnpicklingError, match="is a dict"):
        load_table_bytes(pickle.dumps([1, 2]))


def test_space_is_fixed_by_the_task():
    assert NasBenchGraph("proteins").space == GraphSpace(ops=("gcn", "sage", "arma", "fc", "skip"))


def test_a_numpy_string_name_is_held_as_a_plain_str():
    # outside probe 2: a loop over np.array(["cora", ...]) gave NasBenchGraph(dataset=np.str_('cora')) in reprs
    task = NasBenchGraph(np.array(["cora", "pubmed"])[0])
    assert type(task.dataset) is str and repr(task) == "NasBenchGraph(dataset='cora')"
    assert task.name == NasBenchGraph("cora").name
