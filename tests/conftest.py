import os
import sys
import textwrap

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path, monkeypatch):
    """Tests run in a temporary folder, so the default 'nasbook.db' never lands in the repo, nor a server
    database's saved kb.similar summary in the user cache folder (NASBOOK_CACHE_DIR)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NASBOOK_CACHE_DIR", os.fspath(tmp_path / "nasbook-cache"))
    monkeypatch.delenv("NASBOOK_CACHE_MAX_BYTES", raising=False)  # the cap: its default (2 GiB)
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


# -- plug-in packages, installed as pip leaves them -----------------------------------------------------
@pytest.fixture
def install_plugin(tmp_path, monkeypatch):
    """``install_plugin(module, source, entry_points)``: a plug-in package, installed as ``pip install`` leaves it.

    Writes the package (``pyproject.toml`` with its ``[project.entry-points."<group>"]`` tables, and
    ``<module>.py`` holding ``source``) in a folder, and beside them the ``<module>-0.1.dist-info``
    (METADATA and the same entry points in ``entry_points.txt``) that an install writes, then puts the
    folder first on ``sys.path``: ``importlib.metadata`` lists the entry points, so nasbook finds them,
    and so does a fresh interpreter given ``sys.path`` as PYTHONPATH. ``entry_points`` maps a group to
    ``{name: "module:Class"}``. Returns the dist-info folder (append to its entry_points.txt to add an
    entry point by hand). The module is dropped from ``sys.modules`` afterwards, so another test can
    install another module of that name.
    """
    modules = []

    def install(module, source, entry_points):
        dist = module.replace("_", "-")
        root = tmp_path / f"{dist}-package"
        root.mkdir()
        (root / f"{module}.py").write_text(textwrap.dedent(source))
        pyproject = f'[project]\nname = "{dist}"\nversion = "0.1"\n'
        listed = ""
        for group, eps in entry_points.items():
            pyproject += f'\n[project.entry-points."{group}"]\n' + "".join(f'{n} = "{v}"\n' for n, v in eps.items())
            listed += f"[{group}]\n" + "".join(f"{n} = {v}\n" for n, v in eps.items()) + "\n"
        (root / "pyproject.toml").write_text(pyproject)
        info = root / f"{module}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(listed)
        monkeypatch.syspath_prepend(str(root))
        modules.append(module)
        return info

    yield install
    for module in modules:
        sys.modules.pop(module, None)
