from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from nasbook._errors import InvalidParameterError, InvalidParameterTypeError, check_int, check_type, plain_number
from nasbook.space import Architecture, SearchSpace, stable_hash
from nasbook.tasks import Reporter, Result, Task


class ToyTask(Task):
    """A deterministic, instant objective over any space, for tests.

    The value is a fixed random linear function of the architecture's adjacency encoding plus a
    small id-dependent jitter: smooth enough that evolution beats random search, and the same
    on every machine.

    Parameters
    ----------
    space : SearchSpace
        The space whose architectures it scores.
    seed : int
        Picks the linear function.
    fail_ids : collection of str
        Architecture ids whose evaluation raises (to test failure handling).
    epochs : int
        0 (default): an instant look-up. Otherwise the task pretends to train: it reports a
        rising learning curve once per epoch through ``report`` (obeying ``Decision.STOP``),
        sleeping ``epoch_s`` per epoch, so executors, pruning and timeouts can be tested.
    epoch_s : float
        Seconds per simulated epoch.
    """

    metric = "score"
    mode = "max"

    def __init__(self, space: SearchSpace, seed: int = 0, fail_ids: tuple[str, ...] = (), epochs: int = 0, epoch_s: float = 0.0):
        check_type("ToyTask", "space", space, SearchSpace, "a SearchSpace")
        # plain ints: the parameters are the task's identity (its key hashes them) and np.int64(3) hashed apart from 3
        seed = check_int("ToyTask", "seed", seed, minimum=0)
        epochs = check_int("ToyTask", "epochs", epochs, minimum=0)
        if isinstance(fail_ids, str) or not isinstance(fail_ids, Iterable):  # a bare id failed each of its letters
            raise InvalidParameterTypeError(f"ToyTask(fail_ids=...) must be a collection of architecture ids; got {fail_ids!r:.60}.")
        fail_ids = tuple(fail_ids)
        if not all(isinstance(i, str) for i in fail_ids):
            raise InvalidParameterTypeError(f"ToyTask(fail_ids=...) must hold architecture ids (str); got {list(fail_ids)!r:.80}.")
        epoch_s = plain_number(epoch_s)  # np.float32(0.1): a plain float
        if isinstance(epoch_s, bool) or not isinstance(epoch_s, (int, float)) or not math.isfinite(epoch_s) or epoch_s < 0:
            raise InvalidParameterError(f"ToyTask(epoch_s=...) must be a finite number of seconds >= 0; got {epoch_s!r}.")
        self.space_ = space
        self.seed = seed
        self.fail_ids = fail_ids
        self.epochs = epochs
        self.epoch_s = epoch_s  # not float(): epoch_s=0 keeps the key it always had
        self.has_epochs = epochs > 0
        rng = np.random.default_rng(seed)
        self._w = rng.normal(size=space.encoding_size("adjacency")).astype(np.float64)

    @property
    def space(self) -> SearchSpace:
        return self.space_

    @property
    def max_epochs(self) -> int | None:  # type: ignore[override]  # a plain attribute on Task
        """Epochs of a full evaluation (None for an instant task), as training tasks expose it."""
        return self.epochs or None

    def get_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "fail_ids": list(self.fail_ids), "epochs": self.epochs, "epoch_s": self.epoch_s}

    def evaluate(
        self,
        arch: Architecture,
        *,
        space: SearchSpace | None = None,
        fidelity: Mapping[str, Any] | None = None,
        report: Reporter | None = None,
    ) -> Result:
        if arch.id in self.fail_ids:
            raise RuntimeError(f"toy failure for {arch.id}")
        x = self.space_.encode(arch, "adjacency").astype(np.float64)
        jitter = int(stable_hash(arch.id, 6), 16) / 16**6 - 0.5
        final = float(x @ self._w + 0.1 * jitter)
        if not self.epochs:
            return Result(final, attrs={"test_score": float(x @ self._w)})
        import json
        import time

        from nasbook.tasks import Decision

        fidelity = fidelity or {}
        n = int(fidelity.get("epochs", self.epochs))
        curve: list[float] = []
        if fidelity.get("checkpoint") is not None:  # continue where the parent trial stopped
            curve = list(json.loads(fidelity["checkpoint"])["curve"])
        start = len(curve)
        for epoch in range(start, n):
            time.sleep(self.epoch_s)
            curve.append(final - 2.0 / (epoch + 1))  # rises towards the final value
            if report is not None and report(epoch, **{self.metric: curve[-1]}) is Decision.STOP:
                break
        return Result(
            curve[-1], metrics={"epochs_run": len(curve) - start}, attrs={"test_score": float(x @ self._w)},
            epochs=len(curve), curves={self.metric: curve}, checkpoint=json.dumps({"curve": curve}).encode(),
        )
