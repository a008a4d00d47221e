"""Reading a training task's data once: the sizes, sample shape and classes behind
:meth:`TrainingTask.data_info <nasbook.tasks.TrainingTask.data_info>`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from nasbook._errors import InvalidParameterError

if TYPE_CHECKING:
    from nasbook.tasks._training import TrainingTask


def load_data_info(task: TrainingTask) -> dict[str, Any]:
    """Load ``task.datamodule``'s splits and describe them (what ``data_info`` caches); raises naming
    the split when the training or validation split is empty."""
    from nasbook.training import first_batch, seeded, split_labels, split_loader, split_size

    owner = type(task).__name__
    dm = task.datamodule
    dm_name = type(dm).__name__
    with seeded(None):  # a shuffling loader draws from torch's generator: keep it untouched
        dm.prepare_data()
        dm.setup("fit")
        sizes: dict[str, int | None] = {}
        batch = None
        for split in ("train", "val"):
            loader = split_loader(dm, split)
            if loader is None:
                if split == "train":
                    raise InvalidParameterError(f"{owner}: {dm_name} defines no train_dataloader(); it has nothing to train on.")
                sizes[split] = None
                continue
            n = split_size(loader)
            got = first_batch(loader) if n != 0 else None
            if n == 0 or got is None:
                raise InvalidParameterError(
                    f"{owner}: the {split!r} split of {dm_name} is empty (0 samples); "
                    f"{split}_dataloader() must yield at least one (x, y) batch."
                )
            sizes[split] = n
            if split == "train":
                batch = got
        assert batch is not None
        x, y = batch
        labels = None
        n_classes = getattr(dm, "n_classes", None) or getattr(dm, "num_classes", None)
        if not (isinstance(n_classes, int) and n_classes >= 1):
            labels = split_labels(split_loader(dm, "train"))  # type: ignore[arg-type]
            n_classes = int(labels.max()) + 1
        dm.setup("test")
        test_loader = split_loader(dm, "test")
        sizes["test"] = split_size(test_loader) if test_loader is not None else None
    return {
        "input_shape": tuple(int(s) for s in x.shape[1:]),
        "n_classes": int(n_classes),
        "max_label": int(y.max()),
        "n_train": sizes["train"],
        "n_val": sizes["val"],
        "n_test": sizes["test"],
    }


def meta_features(task: TrainingTask) -> dict[str, Any]:
    """What :meth:`TrainingTask.meta_features <nasbook.tasks.TrainingTask.meta_features>` returns."""
    from nasbook.training import split_labels, split_loader

    info = task.data_info()
    shape = tuple(task.input_shape) if task.input_shape is not None else info["input_shape"]
    n_classes = int(task.n_classes) if task.n_classes is not None else info["n_classes"]
    labels = split_labels(split_loader(task.datamodule, "train"))  # type: ignore[arg-type]
    counts = [int(c) for c in labels.bincount(minlength=n_classes).tolist()]
    total = sum(counts)
    probs = [c / total for c in counts if c > 0]
    entropy = -sum(p * math.log(p) for p in probs)
    return {
        "n_train": info["n_train"],
        "n_val": info["n_val"],
        "n_test": info["n_test"],
        "n_classes": n_classes,
        "input_shape": list(shape),
        "n_features": math.prod(shape),
        "class_entropy": entropy / math.log(n_classes) if n_classes > 1 else 0.0,
        "class_ratio": min(counts) / max(counts) if max(counts) > 0 else 0.0,
    }
