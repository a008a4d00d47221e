"""Training tasks: every trial trains its network with Lightning on a LightningDataModule.

Importing this module imports neither torch nor lightning; ``nasbook.training`` is imported on
the first ``evaluate`` (or ``meta_features``), in whichever process runs it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from nasbook._errors import InvalidParameterError, check_int, did_you_mean, unknown_choice
from nasbook.tasks import _training_checks
from nasbook.tasks._base import Reporter, Result, Task, check_reporter, stored_class
from nasbook.tasks._run_params import split_trainer, with_run_params
from nasbook.tasks._training_data import load_data_info, meta_features

if TYPE_CHECKING:
    import lightning.pytorch as pl

    from nasbook.space import Architecture, SearchSpace

_FIDELITY_KEYS = ("checkpoint", "epochs", "grow")


class TrainingTask(Task):
    """Train each architecture on a LightningDataModule and score it on the validation split.

    ``evaluate`` builds the network with ``space.build(arch, input_shape, n_classes)``, trains
    it with cross-entropy (:class:`nasbook.training.ArchModule`) for ``max_epochs`` epochs (or
    ``fidelity["epochs"]``), reports every epoch to the search loop, and returns a
    :class:`~nasbook.tasks.Result`:

    - ``value``: ``metric`` at the **last epoch trained** (not the best epoch: the network a
      trial leaves behind, and its checkpoint, are the last epoch's);
    - ``metrics``: the last epoch's ``train_loss``, ``val_loss`` and ``val_accuracy``;
    - ``attrs`` (never shown to strategies): ``test_accuracy`` and ``test_loss`` of the final
      network (when the datamodule has a test split), ``n_params``, ``flops`` (forward, one
      sample), ``train_time_s`` (this evaluation) and ``train_time_total_s`` (all evaluations
      that led to this checkpoint), ``epochs_run`` and ``steps_run`` (by this evaluation);
    - ``curves``: per-epoch lists of the logged metrics, epoch = list index, earlier epochs
      included when continuing from a checkpoint; ``epochs``: epochs trained in all;
    - ``checkpoint``: bytes to continue from (weights, optimizer, curves, random state).

    **Growth.** ``fidelity={"checkpoint": parent.checkpoint, "grow": {...}}`` (what
    :class:`nasbook.strategies.Growth` proposes) trains a child grown from a parent's weights
    with soft-landing seeds; see :mod:`nasbook.growth`.

    **Fidelity.** ``fidelity={"epochs": 9, "checkpoint": res.checkpoint}`` continues a trial
    that stopped at, say, 3 epochs: only 6 more are trained and epochs keep counting from 3.
    On CPU with the same ``num_threads`` the result equals training 9 epochs in one go.

    **Reports.** ``report(epoch, **metrics)`` is called after every epoch (epoch counted from 0);
    ``Decision.STOP`` ends training after that epoch and ``evaluate`` returns what was reached.

    **Errors.** Training-health failures (NaN loss, divergence, exploding or vanishing gradients,
    predictions collapsed to one class; see :class:`nasbook.training.HealthCheck`) raise
    :class:`~nasbook._errors.TrialDiverged`. Mistakes in the set-up (a bad parameter, an empty
    split, a metric that is never logged, data that does not fit the space) raise
    :class:`~nasbook._errors.InvalidParameterError`, which stops the search.

    Parameters
    ----------
    datamodule : lightning.LightningDataModule
        Yields ``(x, y)`` batches with integer labels; ``test_dataloader`` is optional. It is
        pickled to every worker: load data in ``setup()``, not in ``__init__``.
    metric : str, default "val_accuracy"
        The objective; one of the logged metrics (``val_accuracy``, ``val_loss``, ``train_loss``;
        ``logged_metrics``), checked when the task is built.
    mode : {"max", "min"}, default "max"
        Whether ``metric`` is better larger or smaller.
    max_epochs : int, default 10
        Epochs per trial when the strategy gives no fidelity.
    input_shape : tuple of int, optional
        Shape of one sample; inferred from the first training batch when None.
    n_classes : int, optional
        Inferred when None: from ``datamodule.n_classes`` (or ``num_classes``), else from the
        training labels (max + 1).
    optimizer : {"adam", "adamw", "sgd"}, default "adam"
        The optimizer (``"sgd"`` with Nesterov momentum 0.9).
    lr : float, default 1e-3
        Learning rate.
    weight_decay : float, default 0.0
        Weight decay (L2 penalty) of the optimizer.
    seed : int, default 0
        Seeds weight initialisation, data order and dropout: the same seed gives the same curve
        on CPU.
    accelerator : {"cpu", "auto", "cuda", "gpu", "mps"}, default "cpu"
        ``"auto"`` uses a GPU when the worker has one (always one device).
    num_threads : int or None, default 1
        torch intra-op threads while training (restored afterwards); None leaves torch's setting.
        One thread per trial is fastest when several trials share a machine.
    health : bool or dict, default True
        False turns the health checks off; a dict sets :class:`~nasbook.training.HealthCheck`'s
        thresholds, e.g. ``{"max_grad_norm": 1e5}``.
    latency : bool, default False
        True times the trained network's forward pass on one sample
        (:func:`nasbook.proxies.latency`, ``num_threads`` threads) and records its median as the
        metric ``latency_ms`` (a second objective) and its p95 as the attribute ``latency_p95_ms``.
    deterministic : {False, True, "warn"}, default False
        True: ``lightning.Trainer(deterministic=True)``, torch's deterministic algorithms (cuDNN benchmark
        off, ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` set in the trial's process), so that a seeded GPU training
        repeats bit for bit; an op without a deterministic version raises (``"warn"``: warns). Restored
        after each trial. A run-only setting: stored in the config's ``run_params``, not in the task's key (on
        the CPU results are the same either way, docs/executors.md), so a search resumes with it changed.
    trainer : dict, optional
        More ``lightning.Trainer`` arguments, e.g. ``{"precision": "bf16-mixed", "gradient_clip_val": 1.0}``
        (``accumulate_grad_batches``, ``limit_train_batches``...): plain values, checked against its signature
        when the task is built (importing Lightning). Those nasbook sets (``max_epochs``, ``callbacks``,
        ``devices``, ``logger``...) are refused, naming what to use instead, and so are NaN, a batch limit of 0,
        ``accumulate_grad_batches < 1`` and ``benchmark=True`` with ``deterministic``. In the task's key, except
        the run-only ``benchmark``, ``detect_anomaly``, ``inference_mode``, ``log_every_n_steps``... (``run_params``).

    Examples
    --------
    >>> from nasbook.space import ChainSpace
    >>> from nasbook.tasks import BreastCancer
    >>> space, task = ChainSpace(kind="mlp", max_depth=2), BreastCancer(max_epochs=3)
    >>> res = task.evaluate(space.make(layers=[["relu", 64]]), space=space)  # doctest: +SKIP
    >>> res.epochs, len(res.curves["val_accuracy"])                          # doctest: +SKIP
    (3, 3)
    """

    has_epochs = True
    worker_imports = ("nasbook.training",)
    #: what every trial logs each epoch (:class:`nasbook.training.ArchModule`): the ``metric`` choices
    logged_metrics: tuple[str, ...] = ("train_loss", "val_accuracy", "val_loss")

    def __init__(
        self,
        datamodule: pl.LightningDataModule,
        metric: str = "val_accuracy",
        mode: Literal["max", "min"] = "max",
        max_epochs: int = 10,
        input_shape: Sequence[int] | None = None,
        n_classes: int | None = None,
        optimizer: str = "adam",
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        seed: int = 0,
        accelerator: str = "cpu",
        num_threads: int | None = 1,
        health: bool | Mapping[str, float] = True,
        latency: bool = False,
        deterministic: bool | Literal["warn"] = False,
        trainer: Mapping[str, Any] | None = None,
    ):
        self._datamodule = datamodule
        self.metric = metric
        self.mode = mode
        self.max_epochs = max_epochs
        self.input_shape = input_shape
        self.n_classes = n_classes
        self.optimizer = optimizer
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.accelerator = accelerator
        self.num_threads = num_threads
        self.health = health
        self.latency = latency
        self.deterministic = deterministic
        self.trainer = trainer
        self._info: dict[str, Any] | None = None
        # at once: a misspelt metric failed only after a trial trained, max_epochs=0 only at Search()
        self._check_metric()
        self._check_datamodule()
        self._check_training_params()

    @property
    def datamodule(self) -> pl.LightningDataModule:
        """The data every trial trains on."""
        return self._datamodule

    # -- validation --------------------------------------------------------------------------------
    def check(self) -> None:
        """Validate the parameters (cheap: loads no data, imports no torch).

        ``evaluate`` calls it first; a search may call it before submitting any trial.
        """
        self._check_datamodule()
        self._check_metric()
        self._check_training_params()

    def _check_training_params(self) -> None:
        """The training parameters (called by the constructor and by :meth:`check`: a parameter changed
        after construction is checked again before a search stores the task)."""
        _training_checks.check_training_params(self)

    def _check_metric(self) -> None:
        owner = type(self).__name__
        if not isinstance(self.metric, str) or not self.metric:
            raise InvalidParameterError(f"{owner}(metric=...) must be a metric name such as 'val_accuracy'; got {self.metric!r}.")
        if self.metric not in self.logged_metrics:
            raise unknown_choice(f"{owner}(metric=...)", self.metric, self.logged_metrics,
                                 "The objective must be a metric every trial logs.")

    def _check_datamodule(self) -> None:
        dm = self._datamodule
        if isinstance(dm, type) or not callable(getattr(dm, "train_dataloader", None)):
            what = f"the class {dm.__name__}" if isinstance(dm, type) else repr(dm)
            raise InvalidParameterError(
                f"{type(self).__name__}(datamodule=...) must be a LightningDataModule instance with a "
                f"train_dataloader(); got {what}."
            )

    def _fidelity(self, fidelity: Mapping[str, Any] | None) -> tuple[int, Any]:
        owner = f"{type(self).__name__}.evaluate"
        if fidelity is None:
            return int(self.max_epochs or 0), None
        if not isinstance(fidelity, Mapping):
            raise InvalidParameterError(
                f"{owner}(fidelity=...) must be None or a dict such as {{'epochs': 3}}; got {fidelity!r}."
            )
        unknown = sorted(set(map(str, fidelity)) - set(_FIDELITY_KEYS))
        if unknown:
            hint = did_you_mean(unknown[0], _FIDELITY_KEYS)
            raise InvalidParameterError(
                f"{owner}(fidelity=...) takes keys {list(_FIDELITY_KEYS)!r}; got unknown key(s) {unknown!r}{hint}."
            )
        epochs = fidelity.get("epochs", self.max_epochs)
        check_int(owner, "fidelity['epochs']", epochs, minimum=1)
        return int(epochs), fidelity.get("checkpoint")

    # -- data --------------------------------------------------------------------------------------
    def data_info(self) -> dict[str, Any]:
        """Sizes, sample shape and classes of the data, loading it once (cached on the task).

        Raises :class:`~nasbook._errors.InvalidParameterError` naming the split when the
        training or validation split is empty.

        Returns
        -------
        dict
            ``input_shape`` (tuple of int: one sample's shape, batch axis dropped), ``n_classes``
            (the datamodule's ``n_classes`` or ``num_classes``, else the largest training label + 1),
            ``max_label`` (largest label of the first training batch), and the sample counts
            ``n_train``, ``n_val``, ``n_test`` (None for a split the datamodule lacks or whose size is unknown).
        """
        if self._info is None:
            self._info = load_data_info(self)
        return self._info

    def sample_batch(self, batch_size: int = 64, seed: int = 0) -> tuple[Any, Any]:
        """``(x, y)`` tensors: ``batch_size`` training samples drawn without replacement with
        ``numpy.random.default_rng(seed)`` (the whole split when smaller), e.g. for
        :func:`nasbook.proxies.compute`. Loads the data (and Lightning) on first use.

        Parameters
        ----------
        batch_size : int >= 1, default 64
            Samples wanted from the training split.
        seed : int >= 0, default 0
            Seeds the draw (the same seed gives the same samples); torch's global generator is left untouched.

        Returns
        -------
        x : torch.Tensor
            Inputs, shape ``(min(batch_size, n_train), *input_shape)``.
        y : torch.Tensor
            Their labels, shape ``(min(batch_size, n_train),)``.
        """
        from nasbook.training import sample_split, seeded

        batch_size = check_int(f"{type(self).__name__}.sample_batch", "batch_size", batch_size, minimum=1)
        seed = check_int(f"{type(self).__name__}.sample_batch", "seed", seed, minimum=0)
        self.data_info()  # the split exists and is not empty
        with seeded(None):
            return sample_split(self.datamodule, "train", batch_size, seed)

    def meta_features(self) -> dict[str, Any]:
        """Describe the data for the knowledge base (JSON-safe).

        Keys: ``n_train``, ``n_val``, ``n_test`` (None when unknown or absent), ``n_classes``,
        ``input_shape``, ``n_features`` (product of the input shape), ``class_entropy`` (entropy
        of the training labels divided by ``log(n_classes)``: 1 is perfectly balanced) and
        ``class_ratio`` (smallest over largest class count in the training split).

        Returns
        -------
        dict
            The keys above (``input_shape`` a list of int; ``input_shape`` and ``n_classes`` are the
            task's own when it was given them, else read from the data).
        """
        return meta_features(self)

    # -- evaluation --------------------------------------------------------------------------------
    def evaluate(
        self,
        arch: Architecture,
        *,
        space: SearchSpace | None = None,
        fidelity: Mapping[str, Any] | None = None,
        report: Reporter | None = None,
    ) -> Result:
        self.check()
        owner = type(self).__name__
        check_reporter(f"{owner}.evaluate", report)
        if space is None:
            raise InvalidParameterError(
                f"{owner}.evaluate(space=...) needs the SearchSpace that architecture {arch.id!r} belongs to, "
                "to build its network; got None."
            )
        epochs, checkpoint = self._fidelity(fidelity)
        from nasbook.training import HealthCheck, first_batch, load_checkpoint, profile, seeded, split_loader, train

        health: Any = self.health
        if isinstance(health, Mapping):
            unknown = sorted(set(health) - set(HealthCheck.PARAMS))
            if unknown:
                raise InvalidParameterError(
                    f"{owner}(health=...) takes HealthCheck thresholds {list(HealthCheck.PARAMS)!r}; "
                    f"got unknown key(s) {unknown!r}{did_you_mean(unknown[0], HealthCheck.PARAMS)}."
                )
        state = None
        grow = (fidelity or {}).get("grow")
        if checkpoint is not None and grow is not None:  # a parent's checkpoint, grown in below (nasbook.growth)
            state = load_checkpoint(checkpoint, owner=f"{owner}.evaluate")
        elif checkpoint is not None:
            state = load_checkpoint(checkpoint, owner=f"{owner}.evaluate")
            written_for = state.get("extra", {}).get("arch_id")
            if written_for is not None and written_for != arch.id:
                raise InvalidParameterError(
                    f"{owner}.evaluate: fidelity['checkpoint'] was written for architecture {written_for!r}, "
                    f"not {arch.id!r}."
                )
            if int(state["epochs"]) > epochs:
                raise InvalidParameterError(
                    f"{owner}.evaluate(fidelity['epochs']=...) must be at least the {int(state['epochs'])} epochs "
                    f"the checkpoint has trained; got {epochs}."
                )

        info = self.data_info()
        given = self.input_shape is not None
        input_shape = tuple(self.input_shape) if given else info["input_shape"]  # type: ignore[arg-type]
        n_classes = int(self.n_classes) if self.n_classes is not None else info["n_classes"]
        if info["max_label"] >= n_classes:
            raise InvalidParameterError(
                f"{owner}(n_classes=...) must exceed every label; got n_classes={n_classes} but the training "
                f"data has label {info['max_label']}. Pass n_classes=None to infer it."
            )
        source = "given as input_shape" if given else "inferred from the first training batch"
        with seeded(None):
            x = first_batch(split_loader(self.datamodule, "train"))[0]  # type: ignore[arg-type,index]
        with seeded(self.seed, self.num_threads):
            try:
                net = space.build(arch, input_shape, n_classes)
            except InvalidParameterError as exc:
                raise InvalidParameterError(
                    f"{owner}: cannot build architecture {arch.id!r} of {space!r} for input_shape={input_shape} "
                    f"({source}) and n_classes={n_classes}: {exc}"
                ) from exc
            try:
                prof = profile(net, x)
            except RuntimeError as exc:
                sample = tuple(int(s) for s in x.shape[1:])
                raise InvalidParameterError(
                    f"{owner}: architecture {arch.id!r} of {space!r}, built for input_shape={input_shape} "
                    f"({source}) and n_classes={n_classes}, does not fit the data: its first forward pass on one "
                    f"sample of shape {sample} failed ({str(exc).splitlines()[0]}). Pass input_shape=None to "
                    f"infer it, or input_shape={sample}."
                ) from exc
            if prof["n_outputs"] != n_classes:
                raise InvalidParameterError(
                    f"{owner}: architecture {arch.id!r} of {space!r} outputs {prof['n_outputs']} values per sample; "
                    f"expected n_classes={n_classes} logits."
                )
            callbacks: list[Any] = []
            if grow is not None or (state or {}).get("extra", {}).get("growth"):
                from nasbook.growth import prepare_training

                state, callbacks = prepare_training(space, arch, net, grow=grow, state=state, input_shape=input_shape,
                                                    n_classes=n_classes, owner=owner)
            out = train(
                net,
                self.datamodule,
                callbacks=callbacks,
                max_epochs=epochs,
                report=report,
                checkpoint=state,
                seed=self.seed,
                monitor=self.metric,
                optimizer=self.optimizer,
                lr=self.lr,
                weight_decay=self.weight_decay,
                accelerator=self.accelerator,
                num_threads=self.num_threads,
                health=health,
                deterministic=getattr(self, "deterministic", False),
                trainer=getattr(self, "trainer", None),
                extra={"arch_id": arch.id, "space_id": arch.space_id},
            )
        curves: dict[str, list[float]] = out["curves"]
        last = {k: v[-1] for k, v in curves.items() if v}
        last.update(out.get("fingerprint", {}))  # the run's early fingerprint (fp_*), for strategies to compare
        attrs: dict[str, Any] = dict(out["test"])
        if getattr(self, "latency", False):
            from nasbook.proxies import latency

            lat = latency(net.cpu(), input_shape, batch_size=1, num_threads=self.num_threads)
            last["latency_ms"], attrs["latency_p95_ms"] = lat.median_ms, lat.p95_ms
        attrs.update(
            n_params=prof["n_params"],
            flops=prof["flops"],
            train_time_s=out["train_time_s"],
            train_time_total_s=out["train_time_total_s"],
            epochs_run=out["epochs_run"],
            steps_run=out["steps_run"],
        )
        return Result(
            value=float(last.get(self.metric, math.nan)),
            metrics=last,
            attrs=attrs,
            epochs=out["epochs"],
            curves=curves,
            checkpoint=out["checkpoint"],
        )

    # -- description -------------------------------------------------------------------------------
    def _train_params(self) -> dict[str, Any]:
        health = self.health if isinstance(self.health, bool) else {str(k): float(v) for k, v in self.health.items()}
        return {
            "metric": self.metric,
            "mode": self.mode,
            "max_epochs": self.max_epochs,
            "input_shape": list(self.input_shape) if self.input_shape is not None else None,
            "n_classes": self.n_classes,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
            "accelerator": self.accelerator,
            "num_threads": self.num_threads,
            "health": health,
            **({"latency": True} if getattr(self, "latency", False) else {}),  # configs without it stay as they were
            # Trainer options that change what is trained (precision, clipping...): the key holds them, when there
            # are any. deterministic and run-only options do not: they are the config's run_params (_run_params.py).
            **({"trainer": kept} if (kept := split_trainer(getattr(self, "trainer", None))[0]) else {}),
        }

    def to_config(self) -> dict[str, Any]:
        """JSON description: the training parameters and the datamodule's class and hyperparameters.

        The datamodule's data is not stored: a search on user data is resumed with ``task=...``.
        """
        dm = self.datamodule
        hparams = {}
        for k, v in dict(getattr(dm, "hparams", {}) or {}).items():
            if v is None or isinstance(v, (bool, int, float, str)):
                hparams[str(k)] = v
        return with_run_params({
            "class": stored_class(type(self)),
            "params": self._train_params(),
            "datamodule": {"class": f"{type(dm).__module__}.{type(dm).__qualname__}", "hparams": hparams},
            "metric": self.metric,
            "mode": self.mode,
        }, self)
