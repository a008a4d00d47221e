"""Audit of the knowledge base as a paper's analysis code uses it: an empty table (a fresh base, a filter that
matches nothing) has the columns AND dtypes of a filled one, so code written against a filled table runs on it."""

from __future__ import annotations

import math

import nasbook
from nasbook import KnowledgeBase
from nasbook.space import ChainSpace
from nasbook.testing import ToyTask

SPACE = ChainSpace(kind="mlp", max_depth=3)


def _tables(kb):
    return {"trials": kb.trials(), "searches": kb.searches, "tasks": kb.tasks, "spaces": kb.spaces}


def test_empty_tables_have_the_dtypes_of_filled_ones():
    kb = KnowledgeBase(":memory:")
    empty = _tables(kb)
    nasbook.Search(SPACE, ToyTask(SPACE, seed=0), budget=4, seed=0, kb=kb, name="a").run(progress="none")
    filled = _tables(kb)
    for name, frame in empty.items():
        assert len(frame) == 0 and len(filled[name]) > 0
        assert list(frame.columns) == list(filled[name].columns), name
        assert frame.dtypes.to_dict() == filled[name].dtypes.to_dict(), name
        assert frame.index.dtype == filled[name].index.dtype, name
    # a filter that matches nothing, and the string accessor analysis code uses on a filled table
    failed = kb.trials(states="failed")
    assert len(failed) == 0 and failed.dtypes.to_dict() == filled["trials"].dtypes.to_dict()
    assert empty["trials"]["task"].str.startswith("toy").sum() == 0
    assert empty["searches"]["n_trials"].sum() == 0 and math.isnan(empty["tasks"]["best"].max())
