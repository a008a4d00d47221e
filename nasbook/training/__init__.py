"""Training with Lightning: the only part of nasbook that imports ``lightning``.

Importing this package imports lightning and torch (several seconds the first time in a
process); ``nasbook`` and ``nasbook.tasks`` import it only when a training task evaluates an
architecture. Executors can import it once per worker to pay that cost before the first trial.

- :class:`ArchModule`: LightningModule around any classifier network (cross-entropy; logs
  ``train_loss``, ``val_loss``, ``val_accuracy``, ``test_loss``, ``test_accuracy``).
- :class:`NasbookCallback`: records per-epoch curves and reports to the search loop.
- :class:`RunFingerprint`: a compact fingerprint of the first steps (loss-curve shape, gradient
  norms, non-finite flags), reported and stored with the trial's metrics (``fp_*``).
- :class:`HealthCheck`: NaN loss, divergence, exploding/vanishing gradients, collapse to one
  class -> :class:`~nasbook._errors.TrialDiverged`.
- :func:`make_trainer`, :func:`train`, :func:`seeded`, :func:`profile`,
  :func:`save_checkpoint` / :func:`load_checkpoint`; :func:`check_trainer_options` (a training task's
  ``trainer=...``; :data:`TRAINER_OWNED`: the ``Trainer`` arguments nasbook sets itself).
- Bundled data: :class:`DigitsDataModule`, :class:`BreastCancerDataModule`, :class:`MNIST1DDataModule`.
"""

from nasbook.training._callbacks import HealthCheck, NasbookCallback
from nasbook.training._checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from nasbook.training._data import (
    ArrayDataModule,
    BreastCancerDataModule,
    DigitsDataModule,
    MNIST1DDataModule,
    first_batch,
    sample_split,
    split_labels,
    split_loader,
    split_size,
)
from nasbook.training._fingerprint import FINGERPRINT_KEYS, RunFingerprint, fingerprint
from nasbook.training._module import OPTIMIZERS, ArchModule
from nasbook.training._options import TRAINER_OWNED, check_trainer_options
from nasbook.training._train import (
    ACCELERATORS,
    make_trainer,
    profile,
    quiet_lightning,
    seeded,
    train,
)

__all__ = [
    "ACCELERATORS",
    "CHECKPOINT_FORMAT",
    "OPTIMIZERS",
    "ArchModule",
    "ArrayDataModule",
    "BreastCancerDataModule",
    "DigitsDataModule",
    "FINGERPRINT_KEYS",
    "HealthCheck",
    "MNIST1DDataModule",
    "TRAINER_OWNED",
    "NasbookCallback",
    "RunFingerprint",
    "check_trainer_options",
    "fingerprint",
    "first_batch",
    "load_checkpoint",
    "make_trainer",
    "profile",
    "quiet_lightning",
    "sample_split",
    "save_checkpoint",
    "seeded",
    "split_labels",
    "split_loader",
    "split_size",
    "train",
]
