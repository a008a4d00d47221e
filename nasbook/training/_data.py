"""Small bundled datasets as LightningDataModules (scikit-learn's and MNIST-1D, generated offline: nothing is downloaded)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

SPLITS: tuple[str, ...] = ("train", "val", "test")

#: split tensors already built in this process, by (module class, split arguments): a dask worker
#: keeps them between trials instead of reloading and re-splitting the table for each one
_SPLIT_CACHE: dict[tuple[Any, ...], dict[str, TensorDataset]] = {}
_SPLIT_CACHE_SIZE = 8


class ArrayDataModule(pl.LightningDataModule):
    """A classification table split once, stratified and seeded, into train/val/test tensors.

    Subclasses implement :meth:`load` (features and integer labels as numpy arrays) and may
    override :meth:`transform` (fit on the training split, applied to every split). Nothing is
    loaded until :meth:`setup`, so the module pickles as its few arguments.

    Parameters
    ----------
    batch_size : int, default 64
        Training batch size (evaluation uses batches of up to 1024).
    split_seed : int, default 0
        Seeds the split, so every search on the same data sees the same split.
    val_fraction, test_fraction : float, default 0.2
        Shares of the samples held out for validation and for test (stratified by label).
    """

    n_classes: int = 0

    def __init__(self, batch_size: int = 64, split_seed: int = 0, val_fraction: float = 0.2, test_fraction: float = 0.2):
        super().__init__()
        self.batch_size = batch_size
        self.split_seed = split_seed
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self._data: dict[str, TensorDataset] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_data"] = None  # tensors are rebuilt by setup() wherever the module lands
        return state

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole table: features and integer labels (subclasses implement it).

        Returns
        -------
        x : numpy.ndarray
            Features, shape ``(n, *input_shape)``, float32.
        y : numpy.ndarray
            Labels ``0 .. n_classes - 1``, shape ``(n,)``, int64.
        """
        raise NotImplementedError

    def transform(self, x_train: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Preprocess ``x`` with statistics of the training split (default: unchanged).

        Parameters
        ----------
        x_train : numpy.ndarray
            The training split's features, to fit the transform on.
        x : numpy.ndarray
            The features of any split, to transform.

        Returns
        -------
        numpy.ndarray
            ``x`` transformed, same shape.
        """
        return x

    def _cache_key(self) -> tuple[Any, ...] | None:
        """What the split tensors depend on; None for subclasses that may hold other state."""
        cls = type(self)
        if cls.__module__ != __name__:
            return None  # only the bundled modules, whose data is fixed, are shared
        return (cls.__qualname__, self.split_seed, self.val_fraction, self.test_fraction)

    def setup(self, stage: str | None = None) -> None:
        if self._data is not None:
            return
        key = self._cache_key()
        if key is not None and key in _SPLIT_CACHE:
            self._data = _SPLIT_CACHE[key]  # read-only: loaders index it, nothing writes to it
            return
        self._data = self._split()
        if key is not None:
            if len(_SPLIT_CACHE) >= _SPLIT_CACHE_SIZE:
                _SPLIT_CACHE.pop(next(iter(_SPLIT_CACHE)))
            _SPLIT_CACHE[key] = self._data

    def _split(self) -> dict[str, TensorDataset]:
        from sklearn.model_selection import train_test_split

        x, y = self.load()
        idx = np.arange(len(y))
        rest, test = train_test_split(idx, test_size=self.test_fraction, stratify=y, random_state=self.split_seed)
        val_share = self.val_fraction / (1.0 - self.test_fraction)
        train, val = train_test_split(rest, test_size=val_share, stratify=y[rest], random_state=self.split_seed)
        x_train = x[train]
        return {
            name: TensorDataset(
                torch.as_tensor(np.ascontiguousarray(self.transform(x_train, x[rows])), dtype=torch.float32),
                torch.as_tensor(y[rows], dtype=torch.long),
            )
            for name, rows in (("train", train), ("val", val), ("test", test))
        }

    def dataset(self, split: str) -> TensorDataset:
        """The tensors of ``split`` (``"train"``, ``"val"`` or ``"test"``), loading them if needed.

        Parameters
        ----------
        split : {"train", "val", "test"}
            Which split.

        Returns
        -------
        torch.utils.data.TensorDataset
            ``(x, y)`` tensors of that split.
        """
        self.setup()
        assert self._data is not None
        return self._data[split]

    def train_dataloader(self) -> DataLoader[Any]:
        data = self.dataset("train")
        # a last batch of one sample breaks BatchNorm in training mode: drop it rather than fail
        return DataLoader(data, batch_size=self.batch_size, shuffle=True, drop_last=len(data) % self.batch_size == 1)

    def val_dataloader(self) -> DataLoader[Any]:
        return DataLoader(self.dataset("val"), batch_size=1024)

    def test_dataloader(self) -> DataLoader[Any]:
        return DataLoader(self.dataset("test"), batch_size=1024)


class DigitsDataModule(ArrayDataModule):
    """scikit-learn's 1,797 handwritten digits: ``(1, 8, 8)`` images scaled to [0, 1], 10 classes."""

    n_classes = 10

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The 1,797 digits, scaled to [0, 1] and shaped ``(1, 8, 8)``.

        Returns
        -------
        x : numpy.ndarray
            Shape ``(1797, 1, 8, 8)``, float32.
        y : numpy.ndarray
            Digits 0-9, shape ``(1797,)``, int64.
        """
        from sklearn.datasets import load_digits

        data = load_digits()
        x = (np.asarray(data.data, dtype=np.float32) / 16.0).reshape(-1, 1, 8, 8)
        return x, np.asarray(data.target, dtype=np.int64)


class BreastCancerDataModule(ArrayDataModule):
    """scikit-learn's 569 breast-cancer biopsies: 30 features standardized on the training split, 2 classes."""

    n_classes = 2

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The 569 biopsies: 30 raw features each, labels 0 (malignant) and 1 (benign).

        Returns
        -------
        x : numpy.ndarray
            Shape ``(569, 30)``, float32, not yet standardized (see :meth:`transform`).
        y : numpy.ndarray
            Shape ``(569,)``, int64.
        """
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        return np.asarray(data.data, dtype=np.float32), np.asarray(data.target, dtype=np.int64)

    def transform(self, x_train: np.ndarray, x: np.ndarray) -> np.ndarray:
        mean = x_train.mean(axis=0)
        std = x_train.std(axis=0)
        std[std == 0] = 1.0
        out: np.ndarray = ((x - mean) / std).astype(np.float32)
        return out


@functools.cache
def mnist1d_arrays() -> dict[str, np.ndarray]:
    """The MNIST-1D sequences of ``mnist1d.data.make_dataset(get_dataset_args())``, made once per process.

    4,000 training and 1,000 test sequences of 40 floats, 10 classes, generated from the package's
    templates in memory (nothing is downloaded or written). ``make_dataset`` seeds Python's and
    numpy's global generators; their states are restored afterwards.
    """
    import random

    from mnist1d.data import get_dataset_args, make_dataset

    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    out: dict[str, np.ndarray] = {
        "x": np.asarray(data["x"], dtype=np.float32), "y": np.asarray(data["y"], dtype=np.int64),
        "x_test": np.asarray(data["x_test"], dtype=np.float32), "y_test": np.asarray(data["y_test"], dtype=np.int64),
    }
    for v in out.values():
        v.setflags(write=False)
    return out


class MNIST1DDataModule(ArrayDataModule):
    """MNIST-1D (Greydanus 2020, the ``mnist1d`` package): sequences of shape ``(1, 40)``, 10 classes.

    The package's own 4,000 training sequences are split once, stratified with ``split_seed``,
    into train and validation (``val_fraction`` of the 4,000, default 0.2: 3,200 / 800); its
    1,000 test sequences are the test split (``test_fraction`` is not used).
    """

    n_classes = 10

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """The package's 4,000 training sequences (the test split comes from its own 1,000).

        Returns
        -------
        x : numpy.ndarray
            Shape ``(4000, 1, 40)``, float32.
        y : numpy.ndarray
            Digits 0-9, shape ``(4000,)``, int64.
        """
        data = mnist1d_arrays()
        return data["x"][:, None, :], data["y"]

    def _split(self) -> dict[str, TensorDataset]:
        from sklearn.model_selection import train_test_split

        x, y = self.load()
        data = mnist1d_arrays()
        train, val = train_test_split(np.arange(len(y)), test_size=self.val_fraction, stratify=y, random_state=self.split_seed)
        rows = {"train": (x[train], y[train]), "val": (x[val], y[val]), "test": (data["x_test"][:, None, :], data["y_test"])}
        return {
            name: TensorDataset(torch.tensor(np.ascontiguousarray(xs), dtype=torch.float32), torch.tensor(ys, dtype=torch.long))
            for name, (xs, ys) in rows.items()
        }


# -- looking into any datamodule -------------------------------------------------------------------
def split_loader(datamodule: pl.LightningDataModule, split: str) -> DataLoader[Any] | None:
    """``datamodule``'s dataloader for ``split``, or None when it does not define one.

    Parameters
    ----------
    datamodule : lightning.LightningDataModule
        The data.
    split : {"train", "val", "test", "predict"}
        Which ``<split>_dataloader`` method to call.

    Returns
    -------
    torch.utils.data.DataLoader or None
        The loader (the first one when the method returns several); None when the module does
        not override that method.
    """
    from lightning.pytorch.utilities.model_helpers import is_overridden

    name = f"{split}_dataloader"
    if not is_overridden(name, datamodule, pl.LightningDataModule):
        return None
    loader = getattr(datamodule, name)()
    if isinstance(loader, (list, tuple)):  # several loaders: the first one stands for the split
        loader = loader[0] if loader else None
    return loader  # type: ignore[no-any-return]


def split_size(loader: DataLoader[Any]) -> int | None:
    """Samples in a loader's dataset, or None when the dataset has no length.

    Parameters
    ----------
    loader : torch.utils.data.DataLoader
        A loader.

    Returns
    -------
    int or None
        ``len(loader.dataset)``.
    """
    dataset = getattr(loader, "dataset", None)
    try:
        return len(dataset)  # type: ignore[arg-type]
    except TypeError:
        return None


def first_batch(loader: Iterable[Any]) -> tuple[torch.Tensor, torch.Tensor] | None:
    """The first ``(x, y)`` batch of a loader, or None when it yields nothing.

    Parameters
    ----------
    loader : iterable
        A loader yielding ``(x, y)`` batches; another kind of batch raises TypeError.

    Returns
    -------
    tuple of torch.Tensor or None
        ``(x, y)`` of the first batch.
    """
    for batch in loader:
        if isinstance(batch, (list, tuple)) and len(batch) >= 2:
            return batch[0], batch[1]
        raise TypeError(f"a batch must be an (x, y) pair; got {type(batch).__name__}")
    return None


def split_labels(loader: DataLoader[Any]) -> torch.Tensor:
    """Every label of a split: read from a ``TensorDataset`` (or a ``targets`` attribute), else by iterating.

    Parameters
    ----------
    loader : torch.utils.data.DataLoader
        The split's loader.

    Returns
    -------
    torch.Tensor
        1-D int64 labels, in dataset order (empty for an empty split).
    """
    dataset: Dataset[Any] | None = getattr(loader, "dataset", None)
    if isinstance(dataset, TensorDataset) and len(dataset.tensors) >= 2:
        return dataset.tensors[1].reshape(-1).long()
    targets = getattr(dataset, "targets", None)
    if targets is not None:
        return torch.as_tensor(np.asarray(targets)).reshape(-1).long()
    labels = []
    for batch in loader:
        labels.append(torch.as_tensor(batch[1]).reshape(-1).long())
    return torch.cat(labels) if labels else torch.zeros(0, dtype=torch.long)


def sample_split(datamodule: pl.LightningDataModule, split: str, batch_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` samples of ``split`` drawn without replacement, as stacked ``(x, y)`` tensors.

    The whole split is returned when it is smaller. A dataset without a length or indexing gives
    its loader's first batches instead, cut to ``batch_size``.

    Parameters
    ----------
    datamodule : lightning.LightningDataModule
        The data; a split it has no loader for raises ValueError.
    split : {"train", "val", "test"}
        Which split.
    batch_size : int
        Samples wanted.
    seed : int
        Seeds ``numpy.random.default_rng`` for the draw.

    Returns
    -------
    x : torch.Tensor
        Inputs, shape ``(min(batch_size, n), *input_shape)``.
    y : torch.Tensor
        Their labels.
    """
    from torch.utils.data import default_collate

    loader = split_loader(datamodule, split)
    if loader is None:
        raise ValueError(f"{type(datamodule).__name__} defines no {split}_dataloader()")
    dataset = getattr(loader, "dataset", None)
    n = split_size(loader)
    if n is not None and n > 0 and hasattr(dataset, "__getitem__"):
        idx = np.random.default_rng(seed).choice(n, size=min(batch_size, n), replace=False)
        batch = default_collate([dataset[int(i)] for i in idx])  # type: ignore[index]
        return batch[0], batch[1]
    xs, ys, got = [], [], 0
    for b in loader:
        xs.append(b[0])
        ys.append(b[1])
        got += len(b[0])
        if got >= batch_size:
            break
    return torch.cat(xs)[:batch_size], torch.cat(ys)[:batch_size]
