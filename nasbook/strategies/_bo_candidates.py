"""Where :class:`~nasbook.strategies.BO` looks for its next proposal: the candidates it scores.

:class:`Candidates` is a mixin of ``BO``: uniform and initial-design proposals (``n_initial``,
``init``), the whole space encoded once, the pool of mutations and samples, the local region
around the best told architectures, the basin regions (``regions``) and the far candidates
(``explore_every``). The acquisition that chooses among them is in :mod:`._bo_acquisition`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from nasbook._errors import SpaceExhausted
from nasbook.strategies._bo_design import far_mask, kmeans_design
from nasbook.strategies._bo_regions import ball, basin_centres

if TYPE_CHECKING:
    from nasbook.predictors import BasePredictor
    from nasbook.space import Architecture, SearchSpace

#: ``candidates="auto"`` scores the whole space when it has at most this many architectures
MAX_ENUMERATED = 50_000
#: the pool's mutations start from this many of the best architectures told
N_PARENTS = 10


class Candidates:
    """Mixin of :class:`~nasbook.strategies.BO`: the candidates an ask scores, and its random proposals."""

    if TYPE_CHECKING:  # set by BO and BaseStrategy
        space_: SearchSpace
        seen_: set[str]
        allow_duplicates: bool
        candidates: str
        n_candidates: int
        n_initial: int
        init: str
        radius: int
        n_parents: int
        regions: int
        explore_quantile: float
        n_asked_: int
        _told: list[tuple[Architecture, float]]
        _pending: dict[str, Architecture]
        _use_space: bool
        _all: list[Architecture] | None
        _row: dict[str, int] | None
        _X_all: dict[tuple[str, ...], np.ndarray]
        _X_exact: set[tuple[str, ...]]
        _design_seed: int | None
        _design: list[Architecture] | None

        def _is_new(self, arch: Architecture) -> bool: ...

    def _random_new(self, rng: np.random.Generator) -> Architecture:
        space = self.space_
        for _ in range(100):
            arch = space.sample(rng)
            if self._is_new(arch):
                return arch
        fresh = [a for a in self._space_list() if self._is_new(a)] if self._use_space else []
        if fresh:
            return fresh[int(rng.integers(len(fresh)))]
        if not self.allow_duplicates and len(self.seen_) >= space.cardinality:
            raise SpaceExhausted(f"all {space.cardinality} architectures of {space!r} have been proposed")
        while True:
            arch = space.sample(rng)
            if self._is_new(arch):
                return arch

    def _design_new(self) -> Architecture | None:
        """``init="kmeans"``: the first design architecture not seen yet (None when all are, or with
        ``init="random"``)."""
        if self.init == "random":
            return None
        if self._design is None:
            seed = int(self._design_seed or 0)
            space = self.space_
            if self._use_space:
                pool = self._space_list()
            else:
                r = np.random.default_rng(seed + 1)
                pool = list({a.id: a for a in (space.sample(r) for _ in range(self.n_candidates))}.values())
            self._design = kmeans_design(space, pool, self.n_initial, seed)
        return next((a for a in self._design if self._is_new(a)), None)

    def _space_list(self) -> list[Architecture]:
        if self._all is None:
            self._all = self.space_.enumerate(limit=max(MAX_ENUMERATED, self.space_.cardinality))
        return self._all

    def _rows(self) -> dict[str, int]:
        """Each enumerated architecture's row in ``_space_list()`` (and in ``_X_all``), by id."""
        if self._row is None:
            self._row = {a.id: i for i, a in enumerate(self._space_list())}
        return self._row

    def _space_X(self, model: BasePredictor) -> np.ndarray:
        """The encodings of the enumerated space for ``model``'s features, computed once."""
        X_all = self._X_all.get(model.features_)
        if X_all is None:
            X64 = model._encode(self._space_list())
            # float32, C-ordered: what scikit-learn's trees predict on without a copy per tree
            X_all = self._X_all[model.features_] = np.ascontiguousarray(X64, dtype=np.float32)
            if np.array_equal(X_all, X64):
                self._X_exact.add(model.features_)
        return X_all

    def _encoded(self, model: BasePredictor, archs: list[Architecture]) -> np.ndarray:
        """``model._encode(archs)``: their rows of ``_X_all`` where the space is enumerated and its
        float32 rows hold the encoding exactly (the same numbers, without encoding them again)."""
        if self._use_space and model.features_ in self._X_exact:
            row = self._rows()
            idx = [row.get(a.id, -1) for a in archs]
            if min(idx, default=0) >= 0:
                return self._X_all[model.features_][np.asarray(idx, dtype=np.int64)].astype(np.float64)
        return model._encode(archs)

    def _unseen_rows(self) -> np.ndarray:
        """The rows of the enumerated space not proposed yet (ascending): one lookup per seen
        architecture rather than a set test per architecture of the space."""
        allA, row = self._space_list(), self._rows()
        seen = self.seen_
        if len(row) != len(allA):  # ids repeated in the enumeration: test each one
            return np.flatnonzero(np.fromiter((a.id not in seen for a in allA), dtype=bool, count=len(allA)))
        mask = np.ones(len(allA), dtype=bool)
        mask[np.fromiter((row[i] for i in seen if i in row), dtype=np.int64)] = False
        return np.flatnonzero(mask)

    def _candidates(self, model: BasePredictor, rng: np.random.Generator) -> tuple[list[Architecture], np.ndarray]:
        region = self._region() if self.candidates == "local" else None
        slot = self.n_asked_ % self.regions
        if slot:
            region = self._basin_region(slot) or region
        if self._use_space:
            allA = self._space_list()
            X_all = self._space_X(model)
            if region:
                row = self._rows()
                idx = np.sort(np.fromiter((row[a.id] for a in region), dtype=np.int64, count=len(region)))
            elif self.allow_duplicates:
                idx = np.arange(len(allA))
            else:
                idx = self._unseen_rows()
            return [allA[i] for i in idx], X_all[idx]
        cands = region or self._pool(rng)
        X = model._encode(cands) if cands else np.zeros((0, model.n_features_in_))
        return cands, np.ascontiguousarray(X, dtype=np.float32)

    def _far(self, cands: list[Architecture], X: np.ndarray, model: BasePredictor) -> tuple[list[Architecture], np.ndarray]:
        """The candidates far from every architecture told (see ``explore_every``), with their rows."""
        told = [a for a, _ in self._told] + list(self._pending.values())
        mask = far_mask(X, model._encode(told), X.std(axis=0), float(self.explore_quantile))
        idx = np.flatnonzero(mask)
        return [cands[i] for i in idx], X[idx]

    def _parents(self) -> list[Architecture]:
        """The ``n_parents`` best architectures told (best first; ties in tell order)."""
        order = sorted(range(len(self._told)), key=lambda i: -self._told[i][1])[: self.n_parents]
        return [self._told[i][0] for i in order]

    def _region(self) -> list[Architecture]:
        """``candidates="local"``: the new architectures within ``radius`` edits of the best told
        (breadth-first through ``space.neighbours``, :func:`ball`), in a fixed order; empty when all are seen."""
        parents = self._parents()
        centres = {a.id for a in parents}
        return [a for a in ball(self.space_, parents, self.radius).values() if a.id not in centres and self._is_new(a)]

    def _basin_region(self, slot: int) -> list[Architecture]:
        """``regions``: the unseen architectures within ``radius`` edits of the ``slot``-th basin's
        centre (empty when there are not that many basins yet)."""
        order = sorted(range(len(self._told)), key=lambda i: -self._told[i][1])
        centres = basin_centres(self.space_, [self._told[i][0] for i in order], slot + 1, self.radius)
        if len(centres) <= slot:
            return []
        return [a for a in ball(self.space_, [centres[slot]], self.radius).values() if self._is_new(a)]

    def _pool(self, rng: np.random.Generator) -> list[Architecture]:
        """Mutations (one to three edits) of the best architectures told, and uniform samples."""
        space = self.space_
        parents = self._parents()
        out: dict[str, Architecture] = {}
        n_mut = self.n_candidates // 2 if parents else 0
        for i in range(n_mut):
            child = parents[i % len(parents)]
            for _ in range(1 + int(rng.integers(3))):
                child = space.mutate(child, rng)
            if self._is_new(child):
                out.setdefault(child.id, child)
        for _ in range(self.n_candidates - n_mut):
            arch = space.sample(rng)
            if self._is_new(arch):
                out.setdefault(arch.id, arch)
        return list(out.values())
