"""The contract every task passes: what the search loop and the executors rely on."""

from __future__ import annotations

import json
import math
import pickle
from typing import Any

import numpy as np
import pytest

from nasbook.space import SearchSpace
from nasbook.tasks import Task
from nasbook.testing._params_check import assert_task_arguments_kept
from nasbook.trial import Decision, Result


class TaskContract:
    """Subclass and provide a ``task`` fixture (and ``space`` when the task does not fix one).

    Checks: ``evaluate`` returns a :class:`~nasbook.trial.Result` whose value is a finite float
    (``deterministic`` tasks: the same value twice); ``metric``/``mode`` are valid; the
    configuration is JSON and stable; the task pickles (it travels to workers); the declared hooks
    agree (``has_epochs``, ``max_epochs``, ``worker_imports`` importable, ``check()`` passes);
    a task with epochs reports the metric once per epoch, honours ``fidelity["epochs"]`` and stops
    after a ``Decision.STOP``; every constructor argument is kept under its own name and reaches the
    stored configuration (an argument with a default may be left out only at its default), and the
    stored parameters rebuild a task with the same configuration, as ``load_search`` rebuilds it.
    """

    #: the same architecture gives the same value twice (False for real training without seeds)
    deterministic: bool = True
    #: architectures evaluated by the value checks
    n_archs: int = 3

    @pytest.fixture
    def task(self) -> Task:
        raise NotImplementedError("subclasses provide a `task` fixture")

    @pytest.fixture
    def space(self, task: Task) -> SearchSpace:
        if task.space is None:
            raise NotImplementedError("the task fixes no space: provide a `space` fixture")
        return task.space

    def _archs(self, space: SearchSpace, n: int) -> list[Any]:
        rng = np.random.default_rng(0)
        return [space.sample(rng) for _ in range(n)]

    def test_declarations(self, task: Task) -> None:
        assert isinstance(task.metric, str) and task.metric, "metric must be a non-empty str"
        assert task.mode in ("max", "min"), f"mode must be 'max' or 'min'; got {task.mode!r}"
        assert isinstance(task.has_epochs, bool)
        if task.has_epochs:
            assert isinstance(task.max_epochs, int) and task.max_epochs >= 1, "a task with epochs declares max_epochs >= 1"
        else:
            assert task.max_epochs is None, "a task without epochs has max_epochs None"
        assert isinstance(task.worker_imports, tuple)
        import importlib

        for module in task.worker_imports:
            importlib.import_module(module)
        task.check()

    def test_config_is_json_and_stable(self, task: Task) -> None:
        config = task.to_config()
        text = json.dumps(config)
        assert json.loads(text)["class"] == type(task).__name__
        assert json.dumps(task.to_config()) == text, "to_config() changes between calls"

    def test_constructor_arguments_are_kept(self, task: Task) -> None:
        assert_task_arguments_kept(task)

    def test_pickles(self, task: Task) -> None:
        again = pickle.loads(pickle.dumps(task))
        assert json.dumps(again.to_config()) == json.dumps(task.to_config())

    def test_evaluate_returns_a_finite_result(self, task: Task, space: SearchSpace) -> None:
        fidelity = {"epochs": 1} if task.has_epochs else None
        for arch in self._archs(space, self.n_archs):
            res = task.evaluate(arch, space=space, fidelity=fidelity)
            assert isinstance(res, Result), f"evaluate must return a Result; got {type(res).__name__}"
            assert isinstance(res.value, float) and math.isfinite(res.value), f"value must be a finite float; got {res.value!r}"
            json.dumps(dict(res.metrics))
            if self.deterministic:
                assert task.evaluate(arch, space=space, fidelity=fidelity).value == res.value, "not deterministic"

    def test_reports_each_epoch_and_obeys_stop(self, task: Task, space: SearchSpace) -> None:
        if not task.has_epochs:
            pytest.skip("the task does not train for epochs")
        assert task.max_epochs is not None
        arch = self._archs(space, 1)[0]
        epochs = min(3, task.max_epochs)
        seen: list[tuple[int, dict[str, float]]] = []

        def report(epoch: int, **metrics: float) -> Decision:
            seen.append((epoch, metrics))
            return Decision.CONTINUE

        res = task.evaluate(arch, space=space, fidelity={"epochs": epochs}, report=report)
        assert [e for e, _ in seen] == list(range(epochs)), f"one report per epoch 0..{epochs - 1}; got {[e for e, _ in seen]}"
        assert all(task.metric in m for _, m in seen), f"every report carries the objective {task.metric!r}"
        assert res.epochs == epochs, f"fidelity epochs={epochs} must train {epochs} epochs; got {res.epochs}"
        if epochs < 2:
            return
        stopped: list[int] = []

        def stop_first(epoch: int, **metrics: float) -> Decision:
            stopped.append(epoch)
            return Decision.STOP

        res = task.evaluate(arch, space=space, fidelity={"epochs": epochs}, report=stop_first)
        assert stopped == [0], f"a STOP after epoch 0 must end the evaluation; reports came for epochs {stopped}"
        assert res.epochs == 1
