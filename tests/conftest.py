import os

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Tests run in a temporary folder, so the default 'nasbook.db' never lands in the repo."""
    monkeypatch.chdir(tmp_path)
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        monkeypatch.setenv(var, os.fspath(tmp_path / var.lower()))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# -- the store URLs: SQLite and a throwaway PostgreSQL server ------------------------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server on 127.0.0.1 for the whole session (initdb + pg_ctl as an unprivileged user)."""
    from nasbook.testing._postgres import INSTALL_HINT, find_postgres, postgres_server

    bindir = find_postgres()
    if bindir is None:
        pytest.skip(f"PostgreSQL server binaries (initdb, pg_ctl) are not installed: {INSTALL_HINT}")
    with postgres_server(bindir) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server):
    """A URL to a new, empty database on the session's PostgreSQL server."""
    from nasbook.testing._postgres import fresh_database

    return fresh_database(postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL to an empty store: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")
