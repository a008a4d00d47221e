"""Fixtures shared by the knowledge-base tests."""

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    """A fresh knowledge-base location: a SQLite file, and the throwaway PostgreSQL server (tests/conftest.py)."""
    if request.param == "sqlite":
        return str(tmp_path / "kb.db")
    return request.getfixturevalue("postgres_url")
