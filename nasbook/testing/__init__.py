"""Public test helpers: contract suites, a toy task, hypothesis strategies.

Subclass a contract to check a plug-in of your own (needs pytest)::

    class TestMyStrategy(nasbook.testing.StrategyContract):
        @pytest.fixture
        def strategy(self):
            return MyStrategy()

``SpaceContract`` (fixture ``space``), ``TaskContract`` (``task``), ``ExecutorContract``
(``executor``), ``StorageContract`` (``storage``) and ``PredictorContract`` (``predictor``)
work the same way.
"""

from nasbook.testing._toy import ToyTask

__all__ = [
    "ExecutorContract", "PredictorContract", "SpaceContract", "StorageContract", "StrategyContract", "TaskContract", "ToyTask", "architectures",
]

_LAZY = {  # pytest and hypothesis are test-time dependencies: imported only when asked for
    "StrategyContract": "nasbook.testing._contract",
    "SpaceContract": "nasbook.testing._space_contract",
    "StorageContract": "nasbook.testing._storage_contract",
    "ExecutorContract": "nasbook.testing._executor_contract",
    "TaskContract": "nasbook.testing._task_contract",
    "PredictorContract": "nasbook.testing._predictor_contract",
    "architectures": "nasbook.testing._hypothesis",
}


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
