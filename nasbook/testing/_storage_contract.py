"""The contract every storage backend passes: what the search loop relies on.

Subclass :class:`StorageContract` and give a ``storage`` fixture that returns a fresh, empty
backend (needs pytest)::

    class TestMyStorage(nasbook.testing.StorageContract):
        @pytest.fixture
        def storage(self, tmp_path):
            st = MyStorage(tmp_path / "x.db")
            yield st
            st.close()
"""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Iterable
from typing import Any

import pytest

from nasbook._errors import DuplicatedSearchError, SearchLockedError, SearchNotFoundError, StorageError
from nasbook.space import PROTEINS_OPS, GraphSpace, SearchSpace
from nasbook.trial import Trial, TrialState

__all__ = ["StorageContract", "canonical", "assert_same_trials"]

NAN, INF = float("nan"), float("inf")


def canonical(obj: Any) -> Any:
    """A form of ``obj`` whose ``==`` tells NaN from NaN-free values and -0.0 from 0.0 (floats by repr)."""
    if isinstance(obj, Trial):
        return (
            obj.number, obj.arch.id, obj.arch.to_json(), obj.state, canonical(obj.value), canonical(obj.metrics),
            canonical(obj.attrs), obj.epochs, _real(obj.started_at), _real(obj.finished_at), obj.reason,
            obj.n_told_before, canonical(obj.curves), obj.parent, tuple(obj.lineage),
        )
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, float):
        return ("float", repr(obj))
    if isinstance(obj, dict):
        return {"dict": sorted((k, canonical(v)) for k, v in obj.items())}
    if isinstance(obj, (list, tuple)):
        return ["list", *(canonical(v) for v in obj)]
    return obj


def _real(v: float | None) -> Any:
    # a SQL REAL column (value, started_at, finished_at): SQLite keeps no sign on a zero
    return canonical(0.0 if v == 0 else v)


def _value_as_stored(v: float | None) -> Any:
    # ... and has no NaN (it stores NULL), so a NaN value may read back as None
    if v is None or math.isnan(v):
        return {None, ("float", "nan")}
    return {_real(v)}


def assert_same_trials(loaded: Iterable[Trial], expected: Iterable[Trial]) -> None:
    """Loaded trials equal the expected ones field by field, NaN-aware.

    The SQL REAL columns (``value``, ``started_at``, ``finished_at``) may lose the sign of a zero, and a
    NaN ``value`` may read back as None: SQLite stores NaN as NULL.
    """
    loaded, expected = list(loaded), list(expected)
    assert [t.number for t in loaded] == [t.number for t in expected], "different trials, or another order"
    for got, want in zip(loaded, expected):
        assert isinstance(got, Trial), f"load_trials must return Trial objects, got {type(got).__name__}"
        assert isinstance(got.state, TrialState), f"trial {got.number}: state {got.state!r} is not a TrialState"
        assert _real(got.value) in _value_as_stored(want.value), f"trial {got.number}: value {got.value!r} != {want.value!r}"
        g, w = canonical(got), canonical(want)
        fields = ("number", "arch id", "arch", "state", "value", "metrics", "attrs", "epochs", "started_at",
                  "finished_at", "reason", "n_told_before", "curves", "parent", "lineage")
        for name, a, b in zip(fields, g, w):
            if name != "value":
                assert a == b, f"trial {got.number}: {name} came back as {a!r}, stored {b!r}"


def _trial(space: SearchSpace, number: int, state: TrialState = TrialState.COMPLETE, **kw: Any) -> Trial:
    import numpy as np

    arch = space.sample(np.random.default_rng(number))
    value = kw.pop("value", None if not state.has_value else 0.5 + number / 1000)
    return Trial(number, arch, state, value, **{"n_told_before": number, **kw})


class StorageContract:
    """Subclass and provide a ``storage`` fixture (a fresh, empty backend); override :meth:`reopen` if needed."""

    @pytest.fixture
    def storage(self) -> Any:
        raise NotImplementedError("subclasses provide a `storage` fixture returning a fresh, empty storage")

    @pytest.fixture
    def space(self) -> SearchSpace:
        return GraphSpace(ops=PROTEINS_OPS)

    def durable(self, storage: Any) -> bool:
        """Whether what is committed outlives the object (False for in-memory databases).

        Parameters
        ----------
        storage : Storage
            The ``storage`` fixture.

        Returns
        -------
        bool
            Durable stores also run the reopen tests.
        """
        return getattr(storage, "label", "") != ":memory:"

    def reopen(self, storage: Any) -> Any:
        """A new handle on the same database, as another process would open it.

        Parameters
        ----------
        storage : Storage
            The ``storage`` fixture.

        Returns
        -------
        Storage
            Another instance of the same class on ``storage.url``, opened with ``create=False``.
        """
        return type(storage)(storage.url, create=False)

    # -- searches ---------------------------------------------------------------------------------
    def test_searches_round_trip(self, storage: Any) -> None:
        config = {"space": {"class": "GraphSpace"}, "seed": 3, "mode": "min", "nested": {"x": [1, 2.5, None]},
                  "unicode": "Ünïcødé ✓"}
        sid = storage.create_search("a", config)
        rec = storage.get_search("a")
        assert (rec.id, rec.name, rec.state, rec.elapsed_s) == (sid, "a", "created", 0.0)
        assert rec.config == config
        assert isinstance(rec.created_at, float) and isinstance(rec.nasbook_version, str)
        storage.update_search(sid, state="done", elapsed_s=12.5, config={**config, "seed": 4})
        rec = storage.get_search("a")
        assert (rec.state, rec.elapsed_s, rec.config["seed"]) == ("done", 12.5, 4)
        sid_b = storage.create_search("b", {"mode": "max"})
        assert sid_b != sid
        assert storage.search_names() == ["a", "b"]

    def test_list_searches_counts_trials_and_best_value(self, storage: Any, space: SearchSpace) -> None:
        a = storage.create_search("a", {"mode": "min"})
        storage.create_search("b", {"mode": "max"})
        for i, v in enumerate([0.3, 0.1, 0.2]):
            storage.add_trial(a, _trial(space, i, value=v), tell_seq=i)
        storage.add_trial(a, _trial(space, 3, TrialState.FAILED, reason="boom"))
        recs = {r.name: r for r in storage.list_searches()}
        assert [r.name for r in storage.list_searches()] == ["a", "b"]
        assert (recs["a"].n_trials, recs["b"].n_trials) == (4, 0)
        assert recs["a"].best_value == pytest.approx(0.1)
        assert recs["b"].best_value is None

    def test_list_searches_best_value_is_at_the_most_epochs(self, storage: Any, space: SearchSpace) -> None:
        """A multi-fidelity (ASHA) search's best_value is its best trial at its most epochs, as ``Search.best``:
        a lucky 1-epoch score (0.99) does not beat the top rung (0.9); +-inf and NaN never count."""
        a = storage.create_search("asha", {"mode": "max"})
        rows = [(1, 0.3), (1, 0.99), (1, float("inf")), (3, 0.6), (9, 0.7), (9, 0.9), (9, float("nan"))]
        for i, (e, v) in enumerate(rows):
            storage.add_trial(a, _trial(space, i, value=v, epochs=e), tell_seq=i)
        m = storage.create_search("loss", {"mode": "min"})
        loss: list[tuple[int | None, float]] = [(1, 0.05), (2, 0.4), (2, 0.3), (None, 0.35)]
        for i, (ep, v) in enumerate(loss):
            storage.add_trial(m, _trial(space, i, value=v, epochs=ep), tell_seq=i)
        recs = {r.name: r for r in storage.list_searches()}
        assert recs["asha"].best_value == pytest.approx(0.9)  # was 0.99 (then inf) at one epoch
        assert recs["loss"].best_value == pytest.approx(0.3)  # no-epochs trials count beside the top

    def test_duplicate_search_name_is_refused(self, storage: Any) -> None:
        storage.create_search("a", {})
        with pytest.raises(DuplicatedSearchError, match="'a'"):
            storage.create_search("a", {"other": 1})
        assert storage.search_names() == ["a"]
        assert storage.get_search("a").config == {}

    def test_unknown_search_errors(self, storage: Any, space: SearchSpace) -> None:
        storage.create_search("cora-1", {})
        with pytest.raises(SearchNotFoundError, match="cora-2"):
            storage.get_search("cora-2")
        missing = 10_000
        with pytest.raises(StorageError):
            storage.add_trial(missing, _trial(space, 0))
        with pytest.raises(StorageError):
            storage.load_trials(missing, space)
        with pytest.raises(StorageError):
            storage.acquire_lease(missing, "me")

    # -- trials -----------------------------------------------------------------------------------
    def test_trials_round_trip(self, storage: Any, space: SearchSpace) -> None:
        sid = storage.create_search("s", {})
        trials = [
            _trial(space, 0, metrics={"loss": NAN, "acc": 0.9, "grad": INF, "neg": -INF, "zero": -0.0},
                   attrs={"test": 0.8, "params": 123456, "latency_ms": 1.5, "note": None},
                   started_at=1.7e9, finished_at=1.7e9 + 3.25, epochs=12,
                   curves={"val_accuracy": [0.1, 0.5, NAN, INF], "train_loss": [2.0, 1.0]}),
            _trial(space, 1, TrialState.FAILED, reason="CUDA out of memory — ünïcødé ✓ 学习",
                   attrs={"traceback": "Traceback (most recent call last):\n  ...", "nested": {"a": {"b": [1, {"c": None}]}}}),
            _trial(space, 2, TrialState.PRUNED, value=0.25, epochs=3, parent=0, lineage=(0, 1)),
            _trial(space, 3, TrialState.DIVERGED, reason="loss is NaN", metrics={"loss": NAN}),
            _trial(space, 4, TrialState.RUNNING, epochs=27, lineage=(2,)),
            _trial(space, 5, TrialState.QUEUED),
            _trial(space, 6, value=INF, metrics={"ключ": "значение", "emoji 🙂": [1, 2]}),
        ]
        for i, t in enumerate(trials):
            storage.add_trial(sid, t, tell_seq=i if t.state.is_finished else None)
        loaded, tell_seq = storage.load_trials(sid, space)
        assert_same_trials(loaded, trials)
        assert tell_seq == {i: i for i, t in enumerate(trials) if t.state.is_finished}

    def test_trials_come_back_in_number_order(self, storage: Any, space: SearchSpace) -> None:
        sid = storage.create_search("s", {})
        order = [5, 0, 3, 9, 1, 2, 8, 4, 7, 6, 10, 11]
        for n in order:
            storage.add_trial(sid, _trial(space, n))
        loaded, _ = storage.load_trials(sid, space)
        assert [t.number for t in loaded] == sorted(order)

    def test_searches_keep_their_own_trials(self, storage: Any, space: SearchSpace) -> None:
        a, b = storage.create_search("a", {}), storage.create_search("b", {})
        storage.add_trial(a, _trial(space, 0, value=0.1))
        storage.add_trial(b, _trial(space, 0, value=0.2))
        storage.add_trial(b, _trial(space, 1, value=0.3))
        assert [t.value for t in storage.load_trials(a, space)[0]] == [0.1]
        assert [t.value for t in storage.load_trials(b, space)[0]] == [0.2, 0.3]

    def test_a_stored_number_is_refused(self, storage: Any, space: SearchSpace) -> None:
        sid = storage.create_search("s", {})
        first = _trial(space, 0, value=0.7)
        storage.add_trial(sid, first)
        with pytest.raises(StorageError, match="already stored"):
            storage.add_trial(sid, _trial(space, 0, value=0.1))
        assert_same_trials(storage.load_trials(sid, space)[0], [first])
        storage.add_trial(sid, _trial(space, 1))  # still usable after the refusal

    def test_update_trial_overwrites_the_row(self, storage: Any, space: SearchSpace) -> None:
        sid = storage.create_search("s", {})
        running = _trial(space, 0, TrialState.RUNNING, epochs=5, started_at=1.0)
        storage.add_trial(sid, running)
        storage.update_trial(sid, _trial(space, 0, TrialState.QUEUED))
        assert storage.load_trials(sid, space)[0][0].state is TrialState.QUEUED
        done = _trial(space, 0, value=0.9, epochs=5, metrics={"loss": 0.1}, curves={"acc": [0.5, 0.9]},
                      started_at=1.0, finished_at=2.0, lineage=(7,))
        storage.update_trial(sid, done, tell_seq=3)
        loaded, tell_seq = storage.load_trials(sid, space)
        assert_same_trials(loaded, [done])
        assert tell_seq == {0: 3}
        with pytest.raises(StorageError):
            storage.update_trial(sid, _trial(space, 99))

    def test_a_runs_write_applies_only_to_its_own_unfinished_row(self, storage: Any, space: SearchSpace) -> None:
        # the search loop passes its lease token as owner=: a run taken over by another process must not
        # overwrite the other run's row of the same number (a custom storage that drops owner= fails here)
        from nasbook.storage import TrialTaken, claim_trials

        sid = storage.create_search("s", {})
        storage.add_trial(sid, _trial(space, 0, TrialState.RUNNING), owner="run-a")
        with pytest.raises(TrialTaken):
            storage.update_trial(sid, _trial(space, 0, value=0.9), owner="run-b")
        assert storage.load_trials(sid, space)[0][0].state is TrialState.RUNNING  # nothing written
        storage.acquire_lease(sid, "run-b")  # a resuming run, holding the search's lease (the claim checks it) ...
        assert claim_trials(storage, sid, [0], "run-b") == 1  # ... takes the unfinished row
        with pytest.raises(TrialTaken):
            storage.update_trial(sid, _trial(space, 0, value=0.9), owner="run-a")  # the overtaken run, too late
        storage.update_trial(sid, _trial(space, 0, value=0.4), tell_seq=0, owner="run-b")
        with pytest.raises(TrialTaken):  # finished: never written again by a run
            storage.update_trial(sid, _trial(space, 0, value=0.7), owner="run-b")
        assert [(t.state, t.value) for t in storage.load_trials(sid, space)[0]] == [(TrialState.COMPLETE, 0.4)]

    def test_a_runs_search_write_applies_only_while_it_holds_the_lease(self, storage: Any) -> None:
        # the search loop passes its lease token to update_search as owner= (nasbook.storage.search_owner_kwargs):
        # a run whose search was taken over must not write its state, elapsed time or configuration over the
        # other run's (a custom storage whose update_search takes no owner=, or drops it, fails here)
        sid = storage.create_search("s", {"a": 1})
        with pytest.raises(SearchLockedError):
            storage.update_search(sid, state="running", owner="run-a")  # no lease held at all
        storage.acquire_lease(sid, "run-a")
        storage.update_search(sid, state="running", elapsed_s=1.0, owner="run-a")
        assert (storage.get_search("s").state, storage.get_search("s").elapsed_s) == ("running", 1.0)
        storage.release_lease(sid, "run-a")
        storage.acquire_lease(sid, "run-b")  # another run took it over
        with pytest.raises(SearchLockedError):
            storage.update_search(sid, state="done", elapsed_s=9.0, config={"b": 2}, owner="run-a")
        record = storage.get_search("s")
        assert (record.state, record.elapsed_s, record.config) == ("running", 1.0, {"a": 1})  # nothing written
        storage.update_search(sid, state="done", elapsed_s=2.0, owner="run-b")
        storage.update_search(sid, config={"b": 2})  # no owner (an edit outside a run): written whoever holds it
        record = storage.get_search("s")
        assert (record.state, record.elapsed_s, record.config) == ("done", 2.0, {"b": 2})

    def test_delete_trials_removes_only_unfinished_ones(self, storage: Any, space: SearchSpace) -> None:
        sid = storage.create_search("s", {})
        states = [TrialState.COMPLETE, TrialState.RUNNING, TrialState.QUEUED, TrialState.FAILED, TrialState.RUNNING]
        for n, st in enumerate(states):
            storage.add_trial(sid, _trial(space, n, st))
        storage.delete_trials(sid, [0, 1, 2, 3])
        storage.delete_trials(sid, [])
        assert [t.number for t in storage.load_trials(sid, space)[0]] == [0, 3, 4]

    def test_committed_trials_survive_close_and_reopen(self, storage: Any, space: SearchSpace) -> None:
        if not self.durable(storage):
            pytest.skip("an in-memory storage does not outlive its object")
        sid = storage.create_search("s", {"seed": 1})
        trials = [_trial(space, n, metrics={"loss": NAN}, lineage=(n,)) for n in range(5)]
        for n, t in enumerate(trials):
            storage.add_trial(sid, t, tell_seq=n)
        storage.update_search(sid, state="interrupted", elapsed_s=3.0)
        storage.close()
        other = self.reopen(storage)
        try:
            rec = other.get_search("s")
            assert (rec.id, rec.state, rec.elapsed_s, rec.config) == (sid, "interrupted", 3.0, {"seed": 1})
            loaded, tell_seq = other.load_trials(sid, space)
            assert_same_trials(loaded, trials)
            assert tell_seq == {n: n for n in range(5)}
        finally:
            other.close()

    # -- leases -----------------------------------------------------------------------------------
    def test_a_lease_admits_one_owner_at_a_time(self, storage: Any) -> None:
        sid = storage.create_search("s", {})
        storage.acquire_lease(sid, "owner-a")
        storage.acquire_lease(sid, "owner-a")  # ours: taken again
        storage.renew_lease(sid, "owner-a")
        with pytest.raises(SearchLockedError, match=r"pid \d+ on host"):
            storage.acquire_lease(sid, "owner-b")
        with pytest.raises(SearchLockedError):
            storage.renew_lease(sid, "owner-b")
        storage.release_lease(sid, "owner-b")  # not held: no error, and nothing released
        with pytest.raises(SearchLockedError):
            storage.acquire_lease(sid, "owner-b")
        storage.release_lease(sid, "owner-a")
        storage.release_lease(sid, "owner-a")
        storage.acquire_lease(sid, "owner-b")
        with pytest.raises(SearchLockedError):
            storage.renew_lease(sid, "owner-a")
        other = storage.create_search("t", {})
        storage.acquire_lease(other, "owner-a")  # leases are per search

    def test_an_expired_lease_is_taken_over(self, storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        sid = storage.create_search("s", {})
        storage.acquire_lease(sid, "owner-a", ttl_s=60)
        with pytest.raises(SearchLockedError):
            storage.acquire_lease(sid, "owner-b", ttl_s=60)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 3600)  # an hour without a heartbeat ...
        # ... seen from another host (on the holder's own host, a live holder keeps its lease)
        monkeypatch.setattr(socket, "gethostname", lambda: "another-host.example")
        storage.acquire_lease(sid, "owner-b", ttl_s=60)
        with pytest.raises(SearchLockedError):
            storage.renew_lease(sid, "owner-a")  # the old owner learns it lost the search
        storage.renew_lease(sid, "owner-b")
