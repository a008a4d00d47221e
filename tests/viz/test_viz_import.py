import json
import subprocess
import sys


def test_import_viz_is_light():
    code = (
        "import sys, json; import nasbook.viz; "
        "print(json.dumps([m for m in ('hvplot', 'holoviews', 'bokeh', 'matplotlib', 'panel') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == []
