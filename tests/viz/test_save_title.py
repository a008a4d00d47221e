"""``viz.save(plot, path, title=...)`` takes a str or None and refuses anything else before writing (outside
probe 5: ``title=3`` was taken and written)."""
import pytest

import nasbook
from nasbook import viz
from nasbook.tasks import NasBenchGraph


@pytest.fixture(scope="module")
def plot():
    s = nasbook.Search(NasBenchGraph("cora"), budget=4, seed=602, storage=":memory:").run(progress="none")
    return viz.plot_history(s)


@pytest.mark.parametrize("bad", [3, ["t"], b"t"])
def test_a_title_that_is_not_a_str_is_refused_and_nothing_written(plot, tmp_path, bad):
    with pytest.raises(nasbook.InvalidParameterError, match=r"save\(title=\.\.\.\) must be a str"):
        viz.save(plot, tmp_path / "h.html", title=bad)
    assert not (tmp_path / "h.html").exists()


def test_a_str_title_is_the_page_title(plot, tmp_path):
    assert "<title>My runs</title>" in viz.save(plot, tmp_path / "h.html", title="My runs").read_text()
