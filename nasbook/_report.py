"""``nasbook report``: execute a notebook with papermill and export a self-contained HTML.

The HTML renders offline: require.js and the Jupyter widgets renderer are inlined from copies
shipped with nasbook (see ``_report_assets/NOTICE.md``), CDN scripts are removed, images are
embedded, and a provenance cell (nasbook version, date, parameters, every search's seed and
space) is appended to the notebook before it runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import re
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from nasbook._errors import InvalidParameterError, NasbookError
from nasbook._version import __version__

PROVENANCE_TAG = "nasbook-provenance"


def parse_value(text: str) -> Any:
    """``-p name value`` values: int, float, true/false, none, JSON lists/dicts, else the string."""
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return text


def provenance(namespace: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
    """Display what produced a report: called by the cell ``nasbook report`` appends."""
    from IPython.display import HTML, display

    from nasbook.search import Search

    by_name: dict[str, Search] = {}
    for v in namespace.values():  # one entry per search, even when several variables hold it
        if isinstance(v, Search) and (v.name not in by_name or v.n_trials > by_name[v.name].n_trials):
            by_name[v.name] = v
    searches = list(by_name.values())
    rows = [
        ("nasbook", __version__),
        ("generated", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("python", f"{platform.python_version()} on {platform.platform(terse=True)}"),
        ("parameters", json.dumps(dict(parameters), default=str)),
    ]
    for s in searches:
        rows += [
            (f"search {s.name}", f"{s.n_trials} trials, {s.state.value}"),
            ("  seed", str(s.seed)),
            ("  space", repr(s.space)),
            ("  task", repr(s.task)),
            ("  strategy", repr(s.strategy)),
        ]
    import html

    text = "Report provenance\n" + "\n".join(f"  {k}: {v}" for k, v in rows)
    table = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                    f"{html.escape(v)}</td></tr>" for k, v in rows)
    display(HTML(f"<details open><summary><b>Report provenance</b></summary><table>{table}</table></details>"),
            metadata={"nasbook": "provenance"})
    print(text)


def _asset(name: str) -> str:
    return (resources.files("nasbook") / "_report_assets" / name).read_text(encoding="utf-8")


_EXTERNAL_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^\"']*[\"'][^>]*>\s*</script>", re.I)


def offline_html(body: str, require_url: str, renderer_url: str) -> str:
    """Inline require.js and the widget renderer; drop every remaining CDN script."""
    body = body.replace(f'<script src="{require_url}"></script>', "<script>" + _asset("require.js") + "</script>")
    marker = f"'{renderer_url}'"
    if marker in body:
        # nbconvert's snippet loads the renderer by setting scriptElement.src: point it at a Blob
        # URL of the inlined code (a text/plain script is not executed by itself), so it loads
        # asynchronously exactly as from a CDN
        body = body.replace(
            "scriptElement.src = widgetRendererSrc;",
            "scriptElement.src = URL.createObjectURL(new Blob([document.getElementById('nasbook-widget-renderer').text], "
            "{type: 'text/javascript'}));",
        )
        # the LAST </body>: plot libraries' inlined JavaScript may contain the string itself
        head, sep, tail = body.rpartition("</body>")
        body = head + '<script type="text/plain" id="nasbook-widget-renderer">' + _asset("embed-amd.js") + "</script>\n" + sep + tail
    return _EXTERNAL_SCRIPT.sub("", body)


def make_report(notebook: str | Path, parameters: Mapping[str, Any] | None = None, out_dir: str | Path = "reports",
                *, kernel_name: str | None = None, timeout_s: float | None = None) -> tuple[Path, Path]:
    """Execute ``notebook`` with ``parameters`` and write ``OUT/NAME.ipynb`` and ``OUT/NAME.html``."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    src = Path(notebook)
    if not src.is_file():
        raise InvalidParameterError(f"nasbook report: notebook {str(src)!r} does not exist.")
    if src.suffix != ".ipynb":
        raise InvalidParameterError(f"nasbook report takes a .ipynb notebook; got {str(src)!r}.")
    parameters = dict(parameters or {})
    nb = nbformat.read(src, as_version=4)
    declared = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if parameters and not declared:
        raise InvalidParameterError(f"{src.name} has no cell tagged 'parameters', so -p {sorted(parameters)} cannot apply.")
    if declared:
        names = set(re.findall(r"^(\w+)\s*=", declared[0].source, re.M))
        unknown = sorted(set(parameters) - names)
        if unknown:
            from nasbook._errors import did_you_mean

            raise InvalidParameterError(
                f"{src.name} has no parameter {unknown[0]!r}{did_you_mean(unknown[0], names)}; "
                f"its parameters are {sorted(names)}."
            )
    cell = nbformat.v4.new_code_cell(
        "import json as _json\nimport nasbook._report as _nasbook_report\n\n"
        f"_nasbook_report.provenance(globals(), _json.loads({json.dumps(parameters, default=str)!r}))"
    )
    cell.metadata["tags"] = [PROVENANCE_TAG]
    nb.cells.append(cell)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staged = out / f".{src.stem}.input.ipynb"
    nbformat.write(nb, staged)
    ipynb = out / f"{src.stem}.ipynb"
    try:
        pm.execute_notebook(
            str(staged), str(ipynb), parameters=parameters, cwd=str(out.resolve()),
            kernel_name=kernel_name, progress_bar=False, execution_timeout=timeout_s,
        )
    except pm.PapermillExecutionError as exc:
        raise NasbookError(f"nasbook report: {src.name} failed in cell {exc.cell_index}: {exc.ename}: {exc.evalue} "
                           f"(the partial notebook is at {ipynb})") from exc
    finally:
        staged.unlink(missing_ok=True)
    executed = nbformat.read(ipynb, as_version=4)
    executed.metadata["nasbook"] = {
        "version": __version__, "parameters": parameters, "source": str(src),
        "generated": _dt.datetime.now(_dt.timezone.utc).isoformat(), "python": sys.version.split()[0],
    }
    nbformat.write(executed, ipynb)
    exporter = HTMLExporter(template_name="lab", embed_images=True)
    require_url = exporter.require_js_url
    renderer_url = "nasbook-inline-widget-renderer.js"
    exporter.widget_renderer_url = renderer_url
    body, _ = exporter.from_notebook_node(executed)
    html_path = out / f"{src.stem}.html"
    html_path.write_text(offline_html(body, require_url, renderer_url), encoding="utf-8")
    return ipynb, html_path
