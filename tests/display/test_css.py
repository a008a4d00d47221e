import importlib.resources
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasbook import display
from nasbook.display import _html
from nasbook.space import CellSpace, ChainSpace, GraphSpace


def test_css_is_package_data_read_once(monkeypatch):
    path = importlib.resources.files("nasbook.display") / "static" / "nasbook.css"
    assert path.is_file()
    display.css.cache_clear()
    reads = []
    real_files = importlib.resources.files

    def counting_files(pkg):
        reads.append(pkg)
        return real_files(pkg)

    monkeypatch.setattr(_html.importlib.resources, "files", counting_files)
    first = display.css()
    arch = ChainSpace(kind="mlp").make(layers=[["relu", 32]])
    for _ in range(3):
        assert first in display.architecture_html(arch)
    assert display.css() is first
    assert reads == ["nasbook.display"]
    assert display.css.cache_info().misses == 1


def test_css_has_the_fallback_rules_theme_variables_and_a_dark_block():
    css = display.css()
    compact = "".join(css.split())
    assert ".nb-fallback{display:none;}" in compact
    assert ".nb-wrap{display:block!important;" in compact
    assert "var(--jp-content-font-color0, #222)" in css
    assert '[data-jp-theme-light="false"] .nb-wrap' in css
    assert "@media (prefers-color-scheme: dark)" in css
    assert "</style" not in css.lower() and "<" not in css  # safe to inline in a <style>
    assert css.count("{") == css.count("}")


def test_importing_display_stays_light():
    code = (
        "import sys, json; import nasbook.display; "
        "print(json.dumps([m for m in ('torch', 'pandas', 'xarray', 'dask', 'distributed', 'lightning') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no headless chromium to take screenshots")
def test_screenshots(tmp_path, nbg_search):  # pragma: no cover - optional, for eyes
    rng = np.random.default_rng(0)
    pages = {"search": display.search_html(nbg_search)}
    for name, space in {"graph": GraphSpace(), "cell": CellSpace(), "chain-cnn": ChainSpace(), "chain-mlp": ChainSpace(kind="mlp")}.items():
        pages[name] = display.architecture_html(space.sample(rng), space)
    out_dir = Path(os.environ.get("NASBOOK_SCREENSHOTS", tmp_path))
    for name, body in pages.items():
        page = out_dir / f"{name}.html"
        page.write_text(f"<!doctype html><meta charset='utf-8'><body>{body}</body>", encoding="utf-8")
        png = out_dir / f"{name}.png"
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}", "--window-size=1000,900", page.as_uri()],
            check=True, capture_output=True, timeout=60,
        )
        assert png.stat().st_size > 1000
    assert shutil.which(CHROMIUM)
