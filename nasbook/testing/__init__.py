"""Public test helpers: the strategy contract suite, a toy task, hypothesis strategies.

Subclass :class:`StrategyContract` to check a strategy of your own (needs pytest)::

    class TestMyStrategy(nasbook.testing.StrategyContract):
        @pytest.fixture
        def strategy(self):
            return MyStrategy()
"""

from nasbook.testing._toy import ToyTask

__all__ = ["ExecutorContract", "StrategyContract", "TaskContract", "ToyTask", "architectures"]

_LAZY = {  # pytest and hypothesis are test-time dependencies: imported only when asked for
    "StrategyContract": "nasbook.testing._contract",
    "ExecutorContract": "nasbook.testing._executor_contract",
    "TaskContract": "nasbook.testing._task_contract",
    "architectures": "nasbook.testing._hypothesis",
}


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
