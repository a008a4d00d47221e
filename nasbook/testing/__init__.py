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

__all__ = ["SpaceContract", "StrategyContract", "ToyTask", "architectures"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # pytest and hypothesis are test-time dependencies: import them only when asked for
    if name == "StrategyContract":
        from nasbook.testing._contract import StrategyContract

        return StrategyContract
    if name == "SpaceContract":
        from nasbook.testing._space_contract import SpaceContract

        return SpaceContract
    if name == "architectures":
        from nasbook.testing._hypothesis import architectures

        return architectures
    raise AttributeError(name)
