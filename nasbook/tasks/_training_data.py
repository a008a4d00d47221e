"""Reading a training task's data once: the sizes, sample shape and classes behind
:meth:`TrainingTask.data_info <nasbook.tasks.TrainingTask.data_info>`."""

from __future__ import annotations

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
