"""Training checkpoints carry the CUDA generators' states when CUDA was used, and a continuation restores them,
so GPU dropout continues as an uninterrupted run would. On CPU through monkeypatched ``torch.cuda`` functions;
the ``gpu``-marked test trains on a real GPU."""

import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("lightning") is None, reason="needs lightning")


def _blobs():
    from nasbook.training import ArrayDataModule

    class Blobs(ArrayDataModule):
        def load(self):
            rng = np.random.default_rng(0)
            y = np.arange(120) % 3
            x = rng.normal(size=(120, 4)).astype(np.float32) + 3 * np.eye(3, 4, dtype=np.float32)[y]
            return x, y.astype(np.int64)

    return Blobs()


def _net(dropout=0.0):
    import torch
    from torch import nn

    from nasbook.training import seeded

    with seeded(0):
        return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3)).to(
            "cuda" if dropout and torch.cuda.is_available() else "cpu")


@pytest.mark.filterwarnings("ignore:GPU available but not used")
def test_cuda_generator_states_are_saved_and_restored(monkeypatch):
    torch = pytest.importorskip("torch")
    from nasbook.training import load_checkpoint, train

    plain = load_checkpoint(train(_net(), _blobs(), max_epochs=1)["checkpoint"])
    assert "cuda_rng" not in plain or torch.cuda.is_initialized()  # CUDA never used: nothing to keep

    states = [torch.arange(8, dtype=torch.uint8), torch.arange(8, 16, dtype=torch.uint8)]
    restored = []
    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_rng_state_all", lambda: [s.clone() for s in states])
    monkeypatch.setattr(torch.cuda, "set_rng_state_all",  # (torch's fork_rng restores an empty list: no state)
                        lambda new: restored.append([s.clone() for s in new]) if len(new) else None)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    first = train(_net(), _blobs(), max_epochs=1)
    saved = load_checkpoint(first["checkpoint"])["cuda_rng"]
    assert [s.tolist() for s in saved] == [s.tolist() for s in states]
    assert not restored  # a fresh run is seeded, not restored
    cont = train(_net(), _blobs(), max_epochs=2, checkpoint=first["checkpoint"])
    assert cont["epochs_run"] == 1
    assert len(restored) == 1 and [s.tolist() for s in restored[0]] == [s.tolist() for s in states]

    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)  # another machine: its GPUs cannot continue those
    train(_net(), _blobs(), max_epochs=2, checkpoint=first["checkpoint"])
    assert len(restored) == 1


@pytest.mark.gpu
def test_gpu_dropout_continues_exactly():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    from nasbook.training import train

    first = train(_net(0.5), _blobs(), max_epochs=2, accelerator="cuda")
    torch.cuda.manual_seed_all(12345)  # the process's CUDA stream moved on (another trial ran meanwhile)
    cont = train(_net(0.5), _blobs(), max_epochs=4, accelerator="cuda", checkpoint=first["checkpoint"])
    whole = train(_net(0.5), _blobs(), max_epochs=4, accelerator="cuda")
    assert cont["curves"] == whole["curves"]
