"""The storage contract on the SQLite backends nasbook ships (a file, a URL, an in-memory database) and on PostgreSQL."""

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


class TestPostgreSQL(StorageContract):
    """The same contract on a real PostgreSQL server (tests/conftest.py starts one on 127.0.0.1)."""

    @pytest.fixture
    def storage(self, postgres_url):
        st = Storage(postgres_url)
        yield st
        st.close()
