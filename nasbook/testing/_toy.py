from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

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
    seed : int
        Picks the linear function.
    fail_ids : collection of str
        Architecture ids whose evaluation raises (to test failure handling).
    """

    metric = "score"
    mode = "max"

    def __init__(self, space: SearchSpace, seed: int = 0, fail_ids: tuple[str, ...] = ()):
        self.space_ = space
        self.seed = seed
        self.fail_ids = tuple(fail_ids)
        rng = np.random.default_rng(seed)
        self._w = rng.normal(size=space.encoding_size("adjacency")).astype(np.float64)

    @property
    def space(self) -> SearchSpace:
        return self.space_

    def get_params(self) -> dict[str, Any]:
        return {"seed": self.seed, "fail_ids": list(self.fail_ids)}

    def evaluate(self, arch: Architecture, *, fidelity: Mapping[str, Any] | None = None, report: Reporter | None = None) -> Result:
        if arch.id in self.fail_ids:
            raise RuntimeError(f"toy failure for {arch.id}")
        x = self.space_.encode(arch, "adjacency").astype(np.float64)
        jitter = int(stable_hash(arch.id, 6), 16) / 16**6 - 0.5
        return Result(float(x @ self._w + 0.1 * jitter), attrs={"test_score": float(x @ self._w)})
