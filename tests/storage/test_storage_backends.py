"""The storage contract on the SQLite backends nasbook ships: a file and an in-memory database."""

import pytest

from nasbook.storage import Storage
from nasbook.testing import StorageContract


class TestSQLiteFile(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path):
        st = Storage(tmp_path / "contract.db")
        yield st
        st.close()


class TestSQLiteURL(StorageContract):
    @pytest.fixture
    def storage(self, tmp_path):
        st = Storage(f"sqlite:///{tmp_path / 'contract.db'}")
        yield st
        st.close()


class TestSQLiteMemory(StorageContract):
    @pytest.fixture
    def storage(self):
        st = Storage(":memory:")
        yield st
        st.close()
