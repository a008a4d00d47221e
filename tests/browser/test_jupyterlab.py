"""A real browser on JupyterLab: the live monitor, the Search repr, a plot and plot_compare's bands render.

JupyterLab runs on 127.0.0.1 with a random token; headless Chromium (Debian's package, driven
by Playwright, never a downloaded browser) opens a notebook, runs it cell by cell and takes
screenshots (kept under tests/browser/artifacts/ when NASBOOK_ARTIFACTS is set, else in tmp).
Every request that is not to 127.0.0.1 is blocked. Skips where Chromium or Playwright is
missing (`.ci/run` installs both).
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,  # a real JupyterLab in Chromium: about a minute
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium (apt-get install chromium)"),
]

CELLS = [
    "import holoviews as hv\nimport nasbook\nimport nasbook.viz as viz\nfrom nasbook.space import GraphSpace\n"
    "from nasbook.testing import ToyTask\nhv.extension('bokeh', inline=True, logo=False)\n"
    "space = GraphSpace(ops=('gcn', 'sage', 'arma', 'fc', 'skip'))\n"
    "search = nasbook.Search(space, ToyTask(space, epochs=4, epoch_s=0.5), strategy='evolution', budget=24, seed=0,\n"
    "                        storage=':memory:', name='<img src=x onerror=alert(1)>')",
    "search.start(progress='widget')",
    "search.wait()\nsearch",
    "viz.plot_history(search)",
    "runs = [nasbook.Search(space, ToyTask(space), strategy=s, budget=8, seed=k, storage=':memory:').run(progress='none')\n"
    "        for s in ('random', 'evolution') for k in range(3)]\n"
    "viz.plot_compare(*runs, width=500, height=300)",
]

#: the fill alpha of every Patch drawn (plot_compare's bands) in the page's Bokeh documents
BANDS_JS = (
    "() => window.Bokeh ? window.Bokeh.documents.flatMap(d => [...d.all_models])"
    ".filter(m => m.constructor.__name__ === 'GlyphRenderer' && m.glyph.constructor.__name__ === 'Patch')"
    ".map(r => (typeof r.glyph.fill_alpha === 'object' && r.glyph.fill_alpha !== null"
    " ? r.glyph.fill_alpha.value : r.glyph.fill_alpha)) : []"
)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    pytest.importorskip("jupyterlab")
    root = tmp_path / "lab"
    root.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nb, root / "live.ipynb")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_DATA_DIR=str(tmp_path / "data"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"), IPYTHONDIR=str(tmp_path / "ipy"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
         "--LabApp.news_url=", "--ServerApp.open_browser=False"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("JupyterLab did not start")
            time.sleep(0.5)
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def _artifacts(tmp_path):
    folder = os.environ.get("NASBOOK_ARTIFACTS")
    out = Path(folder) if folder else tmp_path / "artifacts"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _wait_idle(page, timeout_s=120):
    page.wait_for_function(
        "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
        " return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel"
        " && w.sessionContext.session.kernel.status === 'idle'; }",
        timeout=timeout_s * 1000,
    )


def _run_cell(page, index, timeout_s=180):
    """Run cell ``index`` and wait until its prompt shows an execution count."""
    page.click(f".jp-Notebook .jp-Cell >> nth={index}")
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "(i) => { const c = document.querySelectorAll('.jp-Notebook .jp-Cell')[i];"
        " const p = c && c.querySelector('.jp-InputPrompt'); return p && /\\[\\d+\\]/.test(p.innerText); }",
        arg=index, timeout=timeout_s * 1000,
    )


def test_monitor_repr_and_plot_render_in_jupyterlab(lab, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    base, token = lab
    art = _artifacts(tmp_path)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("http://127.0.0.1")
                   else route.abort())
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(f"{base}/lab/tree/live.ipynb?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
        _wait_idle(page)
        _run_cell(page, 0)  # set-up
        _run_cell(page, 1)  # start() returns at once; the search runs in the background
        page.wait_for_selector(".jupyter-widgets.nasbook-monitor", timeout=60_000)  # the live widget (a VBox)
        page.wait_for_function(
            "() => /running, [1-9]\\d* of 24 trials/.test(document.querySelector('.nasbook-monitor').innerText)",
            timeout=60_000)
        assert page.query_selector(".nasbook-monitor [class*=progress]") is not None
        page.screenshot(path=str(art / "jupyterlab_monitor_mid_search.png"))
        mid = page.inner_text(".nasbook-monitor")
        assert "running" in mid and "of 24 trials" in mid
        _run_cell(page, 2)  # wait() and the finished Search repr
        page.wait_for_selector(".nb-wrap", timeout=60_000)
        _run_cell(page, 3)  # a plot
        page.wait_for_selector(".jp-Cell >> nth=3 >> canvas", timeout=60_000)
        _run_cell(page, 4)  # plot_compare: a band (a see-through Patch) and a line per strategy
        page.wait_for_selector(".jp-Cell >> nth=4 >> canvas", timeout=60_000)
        page.wait_for_function(f"() => ({BANDS_JS})().length >= 2", timeout=60_000)
        bands = page.evaluate(BANDS_JS)
        time.sleep(1.0)
        page.locator(".jp-Cell >> nth=4").screenshot(path=str(art / "jupyterlab_plot_compare.png"))
        page.screenshot(path=str(art / "jupyterlab_finished.png"), full_page=True)
        text = page.inner_text(".jp-Notebook")
        assert "24 of 24 trials" in text and "done" in text
        assert "<img src=x onerror=alert(1)>" in text  # the name shows as text ...
        assert not dialogs  # ... and never runs
        assert len(bands) == 2 and all(0 < float(a) < 1 for a in bands), bands  # two bands, see-through
        browser.close()
    assert (art / "jupyterlab_monitor_mid_search.png").stat().st_size > 10_000
