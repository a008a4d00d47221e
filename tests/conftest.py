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
