"""Audit of the knowledge base as a paper's analysis code uses it. An empty table (a fresh base, a filter that
matches nothing) has the columns AND dtypes of a filled one, so code written against a filled table runs on it;
a warm start's provenance gives each past task's recorded value, a loss as a loss."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import nasbook
from nasbook import KnowledgeBase
from nasbook.knowledge import select_warm_start
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


def test_warm_start_provenance_gives_the_recorded_value_of_a_lower_is_better_task():
    # a loss task's provenance must let the reader find the loss that was recorded, not only its negation
    # ("score", oriented higher-is-better), on the stored-ranks path and on select_warm_start alike
    archs = SPACE.enumerate()[:12]
    loss = np.linspace(0.1, 1.2, len(archs))
    kb = KnowledgeBase(":memory:")
    kb.ingest(pd.DataFrame({"arch": archs, "value": loss}), task="loss-task", space=SPACE, metric="loss", mode="min",
              name="m")
    for got in (kb.warm_start(SPACE, 3, diversify=False), select_warm_start(kb.trials(), SPACE, 3, diversify=False)):
        best = got[0]
        assert best[0].id == archs[0].id  # the lowest loss comes first
        per = best[1]["tasks"]["loss-task"]
        assert per["value"] == pytest.approx(loss[0]) and per["score"] == pytest.approx(-loss[0])
        recorded = kb.trials().set_index("arch_id")["value"]
        assert all(p["tasks"]["loss-task"]["value"] == pytest.approx(recorded[a.id]) for a, p in got)
