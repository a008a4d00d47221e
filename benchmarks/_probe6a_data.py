"""LightningDataModules of benchmarks/outside_probe6a.py, for ``TrainingTask(datamodule)`` (a module of its own:
it imports Lightning, which the plug-ins and the contracts' interpreters do not need)."""

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset


class Blobs(pl.LightningDataModule):
    """Two Gaussian blobs in 6 dimensions, made in ``setup`` (as the docs say: not in ``__init__``)."""

    def __init__(self, n=240, with_val=True, with_test=True, n_classes=None, flat_labels=True):
        super().__init__()
        self.n, self.with_val, self.with_test, self.n_classes, self.flat_labels = n, with_val, with_test, n_classes, flat_labels

    def setup(self, stage=None):
        g = torch.Generator().manual_seed(0)
        y = torch.arange(self.n) % 2
        x = torch.randn(self.n, 6, generator=g) + 1.5 * y[:, None].float()
        labels = y if self.flat_labels else y.float()
        k = self.n // 3
        self.train_, self.val_, self.test_ = (TensorDataset(x[i:j], labels[i:j]) for i, j in ((0, k), (k, 2 * k), (2 * k, self.n)))

    def train_dataloader(self):
        return DataLoader(self.train_, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))

    def val_dataloader(self):
        if not self.with_val:
            return []
        return DataLoader(self.val_, batch_size=64)

    def test_dataloader(self):
        if not self.with_test:
            return []
        return DataLoader(self.test_, batch_size=64)


class EmptyTrain(Blobs):
    def train_dataloader(self):
        return DataLoader(TensorDataset(torch.zeros(0, 6), torch.zeros(0, dtype=torch.long)), batch_size=8)
