"""`nasbook report`: papermill execution plus an HTML that renders offline."""

import json
import re
import shutil
import subprocess

import nbformat
import pytest

from nasbook._errors import InvalidParameterError, NasbookError
from nasbook._report import make_report, parse_value
from nasbook.cli import main

pytest.importorskip("papermill")


def _notebook(path, body):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell("budget = 5\nseed = 0\nname = 'default'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params] + [nbformat.v4.new_code_cell(src) for src in body]
    nbformat.write(nb, path)
    return path


@pytest.mark.notebook
def test_report_is_self_contained_and_records_provenance(tmp_path):
    nb = _notebook(tmp_path / "demo.ipynb", [
        "import ipywidgets as w\nw.IntSlider(value=budget)",
        "import holoviews as hv\nhv.extension('bokeh', inline=True, logo=False)\nhv.Curve([1, 3, 2])",
        "import nasbook\nfrom nasbook.tasks import NasBenchGraph\n"
        "s = nasbook.Search(NasBenchGraph('cora'), budget=budget, seed=seed, storage=':memory:', name=name).run()\ns",
    ])
    ipynb, html = make_report(nb, {"budget": 7, "name": "<b>x</b>"}, tmp_path / "out")
    executed = nbformat.read(ipynb, as_version=4)
    assert executed.metadata["nasbook"]["parameters"] == {"budget": 7, "name": "<b>x</b>"}
    text = html.read_text()
    assert not re.search(r"<script[^>]*src=[\"']https?://", text), "a script still loads from the network"
    assert "application/vnd.jupyter.widget-state+json" in text  # widget state saved by papermill
    assert "nasbook-widget-renderer" in text and "requirejs" in text  # renderer and require.js inlined
    assert "Report provenance" in text and "seed" in text and "GraphSpace" in text
    assert "&lt;b&gt;x&lt;/b&gt;" in text and "<b>x</b>" not in text.split("Report provenance")[1][:5000]
    prov = [c for c in executed.cells if "nasbook-provenance" in c.metadata.get("tags", [])]
    assert prov and "budget" in json.dumps(prov[0]["outputs"])
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return
    # open it offline in a real browser: the widget and the Bokeh plot must be drawn by their JS
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'chromium'}", "--virtual-time-budget=15000", "--dump-dom", html.as_uri()],
        capture_output=True, text=True, timeout=120,
    ).stdout
    assert re.search(r'class="lm-Widget[^"]*widget-slider', dom), "the ipywidgets slider was not rendered"
    assert 'class="bk-' in dom and 'class="bk-' not in text, "the Bokeh plot was not rendered"


@pytest.mark.notebook
def test_report_errors(tmp_path, capsys):
    nb = _notebook(tmp_path / "bad.ipynb", ["raise ValueError('boom')"])
    with pytest.raises(InvalidParameterError, match=r"no parameter 'budgte' \(did you mean 'budget'\?\)"):
        make_report(nb, {"budgte": 3}, tmp_path / "o")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        make_report(tmp_path / "missing.ipynb", {}, tmp_path / "o")
    with pytest.raises(NasbookError, match=r"failed in cell .*ValueError: boom"):
        make_report(nb, {}, tmp_path / "o")
    assert main(["report", str(tmp_path / "missing.ipynb"), "-o", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_parameter_values():
    assert parse_value("12") == 12 and parse_value("0.5") == 0.5 and parse_value("true") is True
    assert parse_value("none") is None and parse_value("[1, 2]") == [1, 2] and parse_value("cora") == "cora"
