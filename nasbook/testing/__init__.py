"""Public test helpers: the strategy and space contract suites, a toy task, hypothesis strategies.

Subclass :class:`StrategyContract` or :class:`SpaceContract` to check a strategy or a search
space of your own (needs pytest)::

    class TestMyStrategy(nasbook.testing.StrategyContract):
        @pytest.fixture
        def strategy(self):
            return MyStrategy()

    class TestMySpace(nasbook.testing.SpaceContract):
        @pytest.fixture
        def space(self):
            return MySpace()
"""

from nasbook.testing._toy import ToyTask

<<<<<<< HEAD
__all__ = ["ExecutorContract", "StrategyContract", "TaskContract", "ToyTask", "architectures"]

_LAZY = {  # pytest and hypothesis are test-time dependencies: imported only when asked for
    "StrategyContract": "nasbook.testing._contract",
    "ExecutorContract": "nasbook.testing._executor_contract",
    "TaskContract": "nasbook.testing._task_contract",
    "architectures": "nasbook.testing._hypothesis",
}
=======
__all__ = ["SpaceContract", "StrategyContract", "ToyTask", "architectures"]
>>>>>>> h-space


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    if name in _LAZY:
        import importlib

<<<<<<< HEAD
        return getattr(importlib.import_module(_LAZY[name]), name)
=======
        return StrategyContract
    if name == "SpaceContract":
        from nasbook.testing._space_contract import SpaceContract

        return SpaceContract
    if name == "architectures":
        from nasbook.testing._hypothesis import architectures

        return architectures
>>>>>>> h-space
    raise AttributeError(name)
