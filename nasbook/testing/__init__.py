"""Public test helpers: the strategy and storage contract suites, a toy task, hypothesis strategies.

Subclass :class:`StrategyContract` to check a strategy of your own (needs pytest)::

    class TestMyStrategy(nasbook.testing.StrategyContract):
        @pytest.fixture
        def strategy(self):
            return MyStrategy()
"""

from nasbook.testing._toy import ToyTask

__all__ = ["StorageContract", "StrategyContract", "ToyTask", "architectures"]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # pytest and hypothesis are test-time dependencies: import them only when asked for
    if name == "StrategyContract":
        from nasbook.testing._contract import StrategyContract

        return StrategyContract
    if name == "StorageContract":
        from nasbook.testing._storage_contract import StorageContract

        return StorageContract
    if name == "architectures":
        from nasbook.testing._hypothesis import architectures

        return architectures
    raise AttributeError(name)
