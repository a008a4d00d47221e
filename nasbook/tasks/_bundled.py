"""Tasks on small offline datasets: scikit-learn's :class:`Digits` and :class:`BreastCancer`, and :class:`MNIST1D`.

The datamodules (:mod:`nasbook.training`) are created on first use, in the process that trains,
so creating, checking or pickling these tasks imports neither torch nor lightning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from nasbook._errors import InvalidParameterError, check_int
from nasbook.tasks._base import stored_class
from nasbook.tasks._run_params import split_trainer, with_run_params
from nasbook.tasks._training import TrainingTask

if TYPE_CHECKING:
    import lightning.pytorch as pl


#: the largest split_seed: scikit-learn's train_test_split takes random_state in [0, 2**32 - 1]
_MAX_SPLIT_SEED = 2**32 - 1


class _BundledTask(TrainingTask):
    """A training task on a small dataset shipped with scikit-learn, created lazily."""

    _dm_class: str = ""

    def __init__(
        self,
        max_epochs: int = 10,
        batch_size: int = 64,
        seed: int = 0,
        metric: str = "val_accuracy",
        mode: Literal["max", "min"] = "max",
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        accelerator: str = "cpu",
        num_threads: int | None = 1,
        health: bool | Mapping[str, float] = True,
        split_seed: int = 0,
        latency: bool = False,
        deterministic: bool | Literal["warn"] = False,
        trainer: Mapping[str, Any] | None = None,
    ):
        super().__init__(
            None,  # type: ignore[arg-type]  # created on first use, in the process that trains
            metric=metric, mode=mode, max_epochs=max_epochs, optimizer=optimizer, lr=lr,
            weight_decay=weight_decay, seed=seed, accelerator=accelerator, num_threads=num_threads, health=health,
            latency=latency, deterministic=deterministic, trainer=trainer,
        )
        self.batch_size = batch_size
        self.split_seed = split_seed
        self._check_data_params()  # at once, like the training parameters (max_epochs=0 failed only at Search())

    @property
    def datamodule(self) -> pl.LightningDataModule:
        if self._datamodule is None:
            from nasbook import training

            self.check()
            self._datamodule = getattr(training, self._dm_class)(batch_size=self.batch_size, split_seed=self.split_seed)
        return self._datamodule

    def _check_datamodule(self) -> None:
        pass  # created on first use

    def check(self) -> None:
        super().check()
        self._check_data_params()

    def _check_data_params(self) -> None:
        owner = type(self).__name__
        self.batch_size = check_int(owner, "batch_size", self.batch_size, minimum=1)
        self.split_seed = check_int(owner, "split_seed", self.split_seed, minimum=0)
        if self.split_seed > _MAX_SPLIT_SEED:  # scikit-learn's random_state range: larger failed at the first trial
            raise InvalidParameterError(
                f"{owner}(split_seed=...) must be an int from 0 to 2**32 - 1 = {_MAX_SPLIT_SEED} (scikit-learn's "
                f"random_state range, which splits the data); got {self.split_seed}.")

    def get_params(self) -> dict[str, Any]:
        params = super().get_params()  # the constructor's arguments, in its order
        if isinstance(self.health, Mapping):
            params["health"] = {str(k): float(v) for k, v in self.health.items()}
        for name in ("latency", "deterministic", "trainer"):  # at their defaults: reprs and configs stay as they were
            if not params.get(name):
                params.pop(name, None)
        return params

    def to_config(self) -> dict[str, Any]:
        params = self.get_params()
        params.pop("deterministic", None)  # run-only: the config's run_params, out of the key (_run_params.py)
        kept = split_trainer(params.pop("trainer", None))[0]
        if kept:  # options that change results are in the key, as TrainingTask's
            params["trainer"] = kept
        return with_run_params({"class": stored_class(type(self)), "params": params, "metric": self.metric,
                                "mode": self.mode}, self)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_datamodule"] = None  # the data is loaded again where the task lands
        return state


class Digits(_BundledTask):
    """scikit-learn's handwritten digits: 1,797 images of ``(1, 8, 8)`` in [0, 1], 10 classes.

    Split once (``split_seed``), stratified, into 60% train, 20% validation and 20% test. For
    image spaces such as :class:`~nasbook.space.CellSpace` or ``ChainSpace(kind="cnn")``.
    ``input_shape`` and ``n_classes`` come from the data.

    Parameters
    ----------
    max_epochs : int, default 10
        Epochs per trial when the strategy gives no fidelity.
    batch_size : int, default 64
        Training batch size.
    seed : int, default 0
        Seeds weight initialisation, data order and dropout: the same seed gives the same curve on CPU.
    metric : str, default "val_accuracy"
        The objective: ``val_accuracy``, ``val_loss`` or ``train_loss``.
    mode : {"max", "min"}, default "max"
        Whether ``metric`` is better larger or smaller.
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
        The optimiser.
    lr : float, default 1e-3
        Learning rate.
    weight_decay : float, default 0.0
        Weight decay (L2 penalty) of the optimiser.
    accelerator : {"cpu", "auto", "cuda", "gpu", "mps"}, default "cpu"
        Where to train; ``"auto"`` uses a GPU when the worker has one (always one device).
    num_threads : int or None, default 1
        torch intra-op threads while training; None leaves torch's setting. One thread per trial is
        fastest when several trials share a machine.
    health : bool or dict, default True
        False turns the training-health checks off; a dict sets
        :class:`~nasbook.training.HealthCheck`'s thresholds, e.g. ``{"max_grad_norm": 1e5}``.
    split_seed : int, default 0
        Seeds the one stratified train/validation(/test) split: 0 to 2**32 - 1 (scikit-learn's range).
    latency : bool, default False
        True records the trained network's median forward time on one sample as metric
        ``latency_ms`` (see :class:`TrainingTask`).
    deterministic : {False, True, "warn"}, default False
        True: torch's deterministic algorithms while training, so a seeded GPU run repeats bit for bit
        (see :class:`TrainingTask`). Run-only: not in the task's key, so a search resumes with it changed.
    trainer : dict, optional
        More ``lightning.Trainer`` arguments, e.g. ``{"gradient_clip_val": 1.0}``, checked as
        :class:`TrainingTask` checks them. In the task's key, except run-only ones such as ``benchmark``.

    Examples
    --------
    >>> from nasbook.space import CellSpace
    >>> task = Digits(max_epochs=2)
    >>> space = CellSpace()
    >>> res = task.evaluate(space.sample(__import__("numpy").random.default_rng(0)), space=space)  # doctest: +SKIP
    """

    _dm_class = "DigitsDataModule"

    @property
    def name(self) -> str:
        return "digits"


class BreastCancer(_BundledTask):
    """scikit-learn's breast-cancer table: 569 samples of 30 features, standardized with the
    training split's statistics, 2 classes (37% / 63%).

    Split once (``split_seed``), stratified, into 60% train, 20% validation and 20% test. For
    ``ChainSpace(kind="mlp")``.

    Parameters
    ----------
    max_epochs : int, default 10
        Epochs per trial when the strategy gives no fidelity.
    batch_size : int, default 32
        Training batch size.
    seed : int, default 0
        Seeds weight initialisation, data order and dropout: the same seed gives the same curve on CPU.
    metric : str, default "val_accuracy"
        The objective: ``val_accuracy``, ``val_loss`` or ``train_loss``.
    mode : {"max", "min"}, default "max"
        Whether ``metric`` is better larger or smaller.
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
        The optimiser.
    lr : float, default 1e-3
        Learning rate.
    weight_decay : float, default 0.0
        Weight decay (L2 penalty) of the optimiser.
    accelerator : {"cpu", "auto", "cuda", "gpu", "mps"}, default "cpu"
        Where to train; ``"auto"`` uses a GPU when the worker has one (always one device).
    num_threads : int or None, default 1
        torch intra-op threads while training; None leaves torch's setting. One thread per trial is
        fastest when several trials share a machine.
    health : bool or dict, default True
        False turns the training-health checks off; a dict sets
        :class:`~nasbook.training.HealthCheck`'s thresholds, e.g. ``{"max_grad_norm": 1e5}``.
    split_seed : int, default 0
        Seeds the one stratified train/validation(/test) split: 0 to 2**32 - 1 (scikit-learn's range).
    latency : bool, default False
        True records the trained network's median forward time on one sample as metric
        ``latency_ms`` (see :class:`TrainingTask`).
    deterministic : {False, True, "warn"}, default False
        True: torch's deterministic algorithms while training, so a seeded GPU run repeats bit for bit
        (see :class:`TrainingTask`). Run-only: not in the task's key, so a search resumes with it changed.
    trainer : dict, optional
        More ``lightning.Trainer`` arguments, e.g. ``{"gradient_clip_val": 1.0}``, checked as
        :class:`TrainingTask` checks them. In the task's key, except run-only ones such as ``benchmark``.
    """

    _dm_class = "BreastCancerDataModule"

    def __init__(
        self,
        max_epochs: int = 10,
        batch_size: int = 32,
        seed: int = 0,
        metric: str = "val_accuracy",
        mode: Literal["max", "min"] = "max",
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        accelerator: str = "cpu",
        num_threads: int | None = 1,
        health: bool | Mapping[str, float] = True,
        split_seed: int = 0,
        latency: bool = False,
        deterministic: bool | Literal["warn"] = False,
        trainer: Mapping[str, Any] | None = None,
    ):
        super().__init__(
            max_epochs=max_epochs, batch_size=batch_size, seed=seed, metric=metric, mode=mode, optimizer=optimizer,
            lr=lr, weight_decay=weight_decay, accelerator=accelerator, num_threads=num_threads, health=health,
            split_seed=split_seed, latency=latency, deterministic=deterministic, trainer=trainer,
        )

    @property
    def name(self) -> str:
        return "breast_cancer"


class MNIST1D(_BundledTask):
    """MNIST-1D (Greydanus 2020; the ``mnist1d`` package): 5,000 sequences of ``(1, 40)``, 10 classes.

    Generated offline from the package's ten digit templates (``make_dataset(get_dataset_args())``,
    once per process: nothing is downloaded or written). A small dataset on which architectures
    differ a lot: published single models span about 30% (logistic regression) to 94% (CNN)
    test accuracy. The package's 4,000 training sequences are split once, stratified
    (``split_seed``), into 3,200 train and 800 validation; its 1,000 test sequences are the test
    split. For 1-D spaces such as :class:`~nasbook.space.ConvDenseSpace`, ``CellSpace`` or
    ``ChainSpace(kind="cnn")`` (their ``build`` makes Conv1d networks for a ``(channels, length)``
    input) and ``ChainSpace(kind="mlp")``.

    Parameters
    ----------
    max_epochs : int, default 10
        Epochs per trial when the strategy gives no fidelity.
    batch_size : int, default 64
        Training batch size.
    seed : int, default 0
        Seeds weight initialisation, data order and dropout: the same seed gives the same curve on CPU.
    metric : str, default "val_accuracy"
        The objective: ``val_accuracy``, ``val_loss`` or ``train_loss``.
    mode : {"max", "min"}, default "max"
        Whether ``metric`` is better larger or smaller.
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
        The optimiser.
    lr : float, default 1e-3
        Learning rate.
    weight_decay : float, default 0.0
        Weight decay (L2 penalty) of the optimiser.
    accelerator : {"cpu", "auto", "cuda", "gpu", "mps"}, default "cpu"
        Where to train; ``"auto"`` uses a GPU when the worker has one (always one device).
    num_threads : int or None, default 1
        torch intra-op threads while training; None leaves torch's setting. One thread per trial is
        fastest when several trials share a machine.
    health : bool or dict, default True
        False turns the training-health checks off; a dict sets
        :class:`~nasbook.training.HealthCheck`'s thresholds, e.g. ``{"max_grad_norm": 1e5}``.
    split_seed : int, default 0
        Seeds the one stratified train/validation(/test) split: 0 to 2**32 - 1 (scikit-learn's range).
    latency : bool, default False
        True records the trained network's median forward time on one sample as metric
        ``latency_ms`` (see :class:`TrainingTask`).
    deterministic : {False, True, "warn"}, default False
        True: torch's deterministic algorithms while training, so a seeded GPU run repeats bit for bit
        (see :class:`TrainingTask`). Run-only: not in the task's key, so a search resumes with it changed.
    trainer : dict, optional
        More ``lightning.Trainer`` arguments, e.g. ``{"gradient_clip_val": 1.0}``, checked as
        :class:`TrainingTask` checks them. In the task's key, except run-only ones such as ``benchmark``.

    Examples
    --------
    >>> from nasbook.space import ConvDenseSpace
    >>> task = MNIST1D(max_epochs=2)
    >>> space = ConvDenseSpace()
    >>> res = task.evaluate(space.make(conv=[["conv5_s2", 16]], dense=[64]), space=space)  # doctest: +SKIP
    """

    _dm_class = "MNIST1DDataModule"

    @property
    def name(self) -> str:
        return "mnist1d"
