"""MNIST1D: the generated dataset, its split, the task's parameters and one real training run."""

import importlib.util
import pickle
import random

import numpy as np
import pytest

from nasbook._errors import InvalidParameterError
from nasbook.space import CellSpace, ChainSpace, ConvDenseSpace
from nasbook.tasks import MNIST1D, Digits

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("lightning") is None or importlib.util.find_spec("mnist1d") is None,
    reason="needs lightning and mnist1d",
)


@pytest.fixture(scope="module")
def datamodule():
    from nasbook.training import MNIST1DDataModule

    dm = MNIST1DDataModule(batch_size=64)
    dm.setup()
    return dm


def test_splits_have_the_documented_sizes_and_shapes(datamodule):
    sizes = {k: len(datamodule.dataset(k)) for k in ("train", "val", "test")}
    assert sizes == {"train": 3200, "val": 800, "test": 1000}
    x, y = datamodule.dataset("train").tensors
    assert tuple(x.shape[1:]) == (1, 40) and str(x.dtype) == "torch.float32"
    assert sorted(set(y.tolist())) == list(range(10))
    val = np.bincount(datamodule.dataset("val").tensors[1].numpy(), minlength=10) / 800
    train = np.bincount(y.numpy(), minlength=10) / 3200
    assert np.abs(val - train).max() < 0.003  # stratified: the same class shares in train and val


def test_split_is_deterministic_and_follows_split_seed(datamodule):
    from nasbook.training import MNIST1DDataModule
    from nasbook.training._data import _SPLIT_CACHE

    _SPLIT_CACHE.clear()  # rebuilt from the generated arrays, not read back from the cache
    again = MNIST1DDataModule(batch_size=64)
    for split in ("train", "val", "test"):
        for a, b in zip(datamodule.dataset(split).tensors, again.dataset(split).tensors):
            assert a.equal(b)
    other = MNIST1DDataModule(split_seed=1)
    assert not other.dataset("val").tensors[0].equal(datamodule.dataset("val").tensors[0])
    assert other.dataset("test").tensors[0].equal(datamodule.dataset("test").tensors[0])  # the package's test set


def test_train_val_test_are_disjoint(datamodule):
    rows = {k: {tuple(np.round(r.numpy().ravel(), 5)) for r in datamodule.dataset(k).tensors[0]} for k in ("train", "val", "test")}
    assert not rows["train"] & rows["val"] and not rows["train"] & rows["test"] and not rows["val"] & rows["test"]


def test_generation_restores_global_generators_and_writes_nothing(tmp_path, monkeypatch):
    from nasbook.training._data import mnist1d_arrays

    monkeypatch.chdir(tmp_path)
    mnist1d_arrays.cache_clear()
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.random())
    random.seed(123)
    np.random.seed(123)
    import mnist1d.data

    def no_download(*args, **kwargs):
        raise AssertionError("mnist1d tried to download or read a pickle")

    monkeypatch.setattr(mnist1d.data, "get_dataset", no_download)
    monkeypatch.setattr(mnist1d.data, "requests", None)
    data = mnist1d_arrays()
    assert (random.random(), np.random.random()) == expected  # make_dataset seeds them; they are restored
    assert data["x"].shape == (4000, 40) and data["x_test"].shape == (1000, 40)
    assert list(tmp_path.iterdir()) == []
    assert mnist1d_arrays() is data  # once per process
    with pytest.raises(ValueError):
        data["x"][0, 0] = 1.0  # read-only: shared by every datamodule of the process


def test_task_parameters_and_config():
    task = MNIST1D(max_epochs=3, seed=2, lr=3e-3, batch_size=128)
    assert task.name == "mnist1d"
    params = task.get_params()
    assert params["max_epochs"] == 3 and params["lr"] == 3e-3 and params["batch_size"] == 128 and params["seed"] == 2
    assert set(params) == set(Digits().get_params())  # the same constructor as Digits
    config = task.to_config()
    assert config["class"] == "MNIST1D" and MNIST1D(**config["params"]).to_config() == config
    again = pickle.loads(pickle.dumps(task))
    assert again.get_params() == params and again._datamodule is None


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"batch_size": 0}, "batch_size"), ({"split_seed": -1}, "split_seed"), ({"max_epochs": 0}, "max_epochs"),
     ({"lr": -1.0}, "lr"), ({"batch_size": 2.5}, "batch_size")],
)
def test_bad_parameters_are_named(kwargs, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        MNIST1D(**kwargs).check()


def test_data_info_reads_the_sequences():
    info = MNIST1D(max_epochs=1).data_info()
    assert tuple(info["input_shape"]) == (1, 40) and info["n_classes"] == 10
    assert (info["n_train"], info["n_val"], info["n_test"]) == (3200, 800, 1000)


@pytest.mark.parametrize(
    ("space", "spec"),
    [(ConvDenseSpace(), {"conv": [["conv5_s2", 16], ["conv5_s2", 16]], "dense": [64]}),
     (ChainSpace(kind="cnn", max_depth=2), {"layers": [["conv3x3", 16], ["maxpool_conv3x3", 16]]}),
     (CellSpace(n_cells=2, n_stages=2, channels=8), None)],
    ids=["convdense", "chain-cnn", "cell"],
)
def test_one_epoch_trains_each_one_dimensional_space(space, spec):
    arch = space.make(**spec) if spec else space.sample(np.random.default_rng(0))
    res = MNIST1D(max_epochs=1, lr=3e-3).evaluate(arch, space=space)
    assert res.epochs == 1 and 0.0 <= res.value <= 1.0
    assert res.attrs["n_params"] > 0 and res.attrs["flops"] > 0 and 0.0 <= res.attrs["test_accuracy"] <= 1.0


@pytest.mark.slow
def test_a_cnn_beats_logistic_regression():
    space = ConvDenseSpace()
    task = MNIST1D(max_epochs=8, lr=3e-3)
    linear = task.evaluate(space.make(conv=[], dense=[]), space=space).value
    cnn = task.evaluate(space.make(conv=[["conv5", 16], ["conv5_s2", 16]], dense=[64]), space=space).value
    assert linear < 0.45 and cnn > linear + 0.2
