"""Architectures and trial rows shared by the ``kb.similar`` suites (imported as a plain module: pytest
puts this folder on ``sys.path`` for its test files)."""

import numpy as np

import nasbook
from nasbook.knowledge import similar_archs
from nasbook.space import GraphSpace

SPACE = GraphSpace()


def archs(n, seed):
    """The distinct architectures among ``n`` samples of ``SPACE`` under ``seed``."""
    rng = np.random.default_rng(seed)
    return list({a.id: a for a in (SPACE.sample(rng) for _ in range(n))}.values())


archs(1, 0)  # the space's keys, listed once (~0.4 s): the fork server of _forked preloads this module for its children


def rows(archs, rng, n, **extra):
    """``n`` trials drawn from ``archs`` with 2-decimal values (ties), each with ``extra`` columns."""
    picks = rng.integers(0, len(archs), n)
    return [{"arch": archs[i], "value": float(v), **extra} for i, v in zip(picks, np.round(rng.random(n), 2))]


def first_similar(url, seed):
    """A new process's first ``kb.similar`` on ``url``: how it got its summary (``how``), whether it equals a
    rebuild from the store's trials (``same``), and the answer as JSON (``got``)."""
    q = archs(90, seed)[0]
    with nasbook.KnowledgeBase(url) as kb:
        got = kb.similar(q, 500)
        how = kb._similar_kept[(SPACE.space_id, None)].how
        rebuilt = similar_archs(kb.trials(space=SPACE.space_id), SPACE, q, 500)
    return {"how": how, "same": bool(got.equals(rebuilt)), "got": got.to_json(orient="split", double_precision=15)}
