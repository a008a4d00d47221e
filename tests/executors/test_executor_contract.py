"""Every built-in executor passes the public executor contract."""

import pytest

from nasbook.executors import DaskExecutor, LocalExecutor
from nasbook.testing import ExecutorContract


class TestLocalExecutor(ExecutorContract):
    @pytest.fixture
    def executor(self):
        return LocalExecutor()


@pytest.mark.slow
class TestDaskExecutor(ExecutorContract):
    """One two-worker LocalCluster for the whole class (a cluster takes seconds to start)."""

    @pytest.fixture(scope="class")
    @classmethod
    def executor(cls):
        ex = DaskExecutor(n_workers=2)
        yield ex
        ex.close()
