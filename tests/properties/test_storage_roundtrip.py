"""Any Trial written with add_trial (or update_trial) reads back equal from load_trials."""

import itertools
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nasbook.space import GraphSpace
from nasbook.storage import Storage
from nasbook.testing._storage_contract import assert_same_trials, canonical
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace()
# architectures from a fixed pool: sampling and mutating one costs ~20 ms, and storage only needs variety
POOL = [SPACE.sample(np.random.default_rng(seed)) for seed in range(40)]
INT64 = st.integers(-(2**63), 2**63 - 1)
NONNEG = st.integers(0, 2**63 - 1)
floats = st.floats(allow_nan=True, allow_infinity=True)  # includes -0.0, subnormals, nan, +-inf
text = st.text(max_size=30)  # any unicode scalar (hypothesis leaves out lone surrogates: not UTF-8)
json_scalars = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | floats | text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=10,
)
json_objects = st.dictionaries(text, json_values, max_size=5)
times = st.none() | st.floats(allow_nan=False, allow_infinity=True)  # a REAL column: no NaN in SQL


@st.composite
def trials(draw, number=None):
    return Trial(
        number=draw(NONNEG) if number is None else number,
        arch=draw(st.sampled_from(POOL)),
        state=draw(st.sampled_from(list(TrialState))),
        value=draw(st.none() | floats),
        metrics=draw(json_objects),
        attrs=draw(json_objects),
        epochs=draw(st.none() | INT64),
        started_at=draw(times),
        finished_at=draw(times),
        reason=draw(st.none() | text),
        n_told_before=draw(INT64),
        curves=draw(st.dictionaries(text, st.lists(floats, max_size=6), max_size=3)),
        parent=draw(st.none() | INT64),
        lineage=tuple(draw(st.lists(NONNEG, max_size=4))),
    )


_names = itertools.count()


@pytest.fixture(scope="module", params=["memory", "file"])
def storage(request):
    if request.param == "memory":
        st_ = Storage(":memory:")
        yield st_
        st_.close()
        return
    with tempfile.TemporaryDirectory() as d:
        st_ = Storage(Path(d) / "roundtrip.db")
        yield st_
        st_.close()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(trials(), min_size=1, max_size=3, unique_by=lambda t: t.number), tell_seq=st.none() | INT64)
def test_any_trial_round_trips(storage, batch, tell_seq):
    sid = storage.create_search(f"s{next(_names)}", {})
    for t in batch:
        storage.add_trial(sid, t, tell_seq=tell_seq)
    loaded, seqs = storage.load_trials(sid, SPACE)
    expected = sorted(batch, key=lambda t: t.number)
    assert_same_trials(loaded, expected)
    assert seqs == ({} if tell_seq is None else {t.number: tell_seq for t in batch})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=trials(number=0), second=trials(number=0))
def test_update_trial_round_trips(storage, first, second):
    sid = storage.create_search(f"u{next(_names)}", {})
    storage.add_trial(sid, first)
    storage.update_trial(sid, second, tell_seq=1)
    loaded, seqs = storage.load_trials(sid, SPACE)
    assert_same_trials(loaded, [second])
    assert seqs == {0: 1}


def test_canonical_tells_nan_and_signed_zero_apart():
    assert canonical({"a": [float("nan")]}) == canonical({"a": [float("nan")]})
    assert canonical(-0.0) != canonical(0.0)
    assert canonical(1) != canonical(1.0)
    assert canonical({"a": 1, "b": 2}) == canonical({"b": 2, "a": 1})
