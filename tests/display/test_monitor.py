import time

import pytest

import nasbook
from nasbook._errors import InvalidParameterError
from nasbook.display._monitor import BarProgress, WidgetProgress, make_progress
from nasbook.search import SearchState
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.tasks import NasBenchGraph
from nasbook.testing import ToyTask

SPACE = GraphSpace(ops=PROTEINS_OPS)


def test_widget_shows_progress_best_and_escaped_failures():
    pytest.importorskip("ipywidgets")

    class Evil(ToyTask):
        def evaluate(self, arch, **kw):
            if int(arch.id) % 7 == 0:
                raise RuntimeError("<img src=x onerror=alert(1)>")
            return super().evaluate(arch, **kw)

    s = nasbook.Search(SPACE, Evil(SPACE), strategy="random", budget=300, seed=0, storage=":memory:").run()
    w = make_progress(s, "widget")
    assert isinstance(w, WidgetProgress)
    state = w.state_html()
    assert "best" in state and "<svg" in state and "<polyline" in state
    assert any(t.state.value == "failed" for t in s.trials)
    assert "failed</summary>" in state
    assert "<img src=x" not in state and "&lt;img src=x" in state
    assert w.bar.value == 300 and w.bar.max == 300
    assert "300 of 300 trials" in w.label.value


def test_bar_in_a_terminal(capsys):
    s = nasbook.Search(NasBenchGraph("cora"), budget=50, seed=0, storage=":memory:", name="barred")
    assert isinstance(make_progress(s, "bar"), BarProgress)
    s.run(progress="bar")
    err = capsys.readouterr().err
    assert "barred" in err and "50/50" in err and "best" in err


def test_bar_counts_failures(capsys):
    # a run in which a third of the trials raise must not look healthy in a terminal
    class Flaky(ToyTask):
        def evaluate(self, arch, **kw):
            if int(arch.id) % 3 == 0:
                raise RuntimeError("flaky")
            return super().evaluate(arch, **kw)

    s = nasbook.Search(SPACE, Flaky(SPACE), strategy="random", budget=60, seed=0, storage=":memory:", name="flaky")
    s.run(progress="bar")
    n_failed = sum(t.state.value == "failed" for t in s.trials)
    assert 0 < n_failed < 60
    last = capsys.readouterr().err.strip().split("\r")[-1]
    assert f"{n_failed} failed" in last and "best" in last


def test_progress_choices():
    s = nasbook.Search(NasBenchGraph("cora"), budget=5, seed=0, storage=":memory:")
    assert make_progress(s, "none") is None and make_progress(s, False) is None
    assert isinstance(make_progress(s, "auto"), BarProgress)  # not in a notebook kernel here
    with pytest.raises(InvalidParameterError, match=r"Unknown progress 'widgte'.*did you mean 'widget'"):
        s.run(progress="widgte")


def test_start_runs_in_the_background_and_stop_leaves_it_resumable(tmp_path):
    # the run holds after its third trial until stop() is called: mid-run whatever the load (running
    # freely, 3 s in all, a stall of the test's thread let it finish before stop() and the asserts)
    import threading

    reached = threading.Event()

    def hold_after_three(search, trial):
        if search.n_trials == 3:
            reached.set()
            deadline = time.monotonic() + 120  # a safety net: stop() comes at once
            while not search._stop_flag and time.monotonic() < deadline:
                time.sleep(0.001)

    task = ToyTask(SPACE, epochs=3, epoch_s=0.005)
    s = nasbook.Search(SPACE, task, budget=200, seed=0, storage=tmp_path / "bg.db", name="bg",
                       callbacks=[hold_after_three])
    s.start(progress="none")
    try:
        assert reached.wait(120), "the background run never finished three trials"
        assert s.state is SearchState.RUNNING and s.n_trials == 3  # usable mid-run
    finally:
        s.stop()
    assert s.state is SearchState.INTERRUPTED and s.n_trials == 3  # no trial was in flight
    again = nasbook.load_search("bg", tmp_path / "bg.db", task=task).run()
    assert again.n_trials == 200 and again.state is SearchState.DONE


def test_background_errors_reach_wait():
    class Broken(ToyTask):
        def evaluate(self, arch, **kw):
            raise InvalidParameterError("bad set-up")

    s = nasbook.Search(SPACE, Broken(SPACE), budget=5, seed=0, storage=":memory:")
    s.start(progress="none")
    with pytest.raises(InvalidParameterError, match="bad set-up"):
        s.wait(30)
    assert s.state is SearchState.INTERRUPTED and s.n_trials == 0


def test_a_search_cannot_be_started_twice():
    task = ToyTask(SPACE, epochs=50, epoch_s=0.05)
    s = nasbook.Search(SPACE, task, budget=3, seed=0, storage=":memory:")
    s.start(progress="none")
    with pytest.raises(nasbook.NasbookError, match="already running"):
        s.start(progress="none")
    s.stop()


def test_sparkline_caps_points_but_keeps_the_best():
    from nasbook.display._monitor import _sparkline

    values = [0.1] * 5000
    values[1234] = 0.9  # a best that an even subsample would skip
    svg = _sparkline(values, max_points=100)
    assert svg.count("<circle") <= 100
    last_y = svg.split("points='")[1].split("'")[0].split()[-1].split(",")[1]
    assert float(last_y) == pytest.approx(2.0)  # the line ends at the top: best 0.9 was kept


def test_bar_says_an_interrupted_run_is_resumable_and_ends_on_one_line(capsys):
    def stop_after_5(search, trial):
        if search.n_trials == 5:
            raise KeyboardInterrupt

    s = nasbook.Search(NasBenchGraph("cora"), budget=50, seed=0, storage=":memory:", name="cut", callbacks=[stop_after_5])
    with pytest.raises(KeyboardInterrupt):
        s.run(progress="bar")
    frames = [f.strip() for f in capsys.readouterr().err.replace("\n", "\r").split("\r") if f.strip()]
    assert "5/50" in frames[-1] and "interrupted, resumable" in frames[-1]
    assert frames[-1] != frames[-2]  # the final line is drawn once


def test_repr_right_after_start_says_running(tmp_path):
    # `search.start()` as a cell's last line shows the live widget and the repr of the returned search:
    # that repr must not say "created" (the thread has not reached run()'s state change yet)
    import threading

    s = nasbook.Search(SPACE, ToyTask(SPACE), budget=20, seed=0, storage=tmp_path / "r.db", name="r")
    go = threading.Event()
    acquire = s._storage.acquire_lease

    def held_lease(*a, **kw):
        go.wait(30)
        return acquire(*a, **kw)

    s._storage.acquire_lease = held_lease
    s.start(progress="none")
    try:
        assert s._repr_mimebundle_()["text/plain"].splitlines()[0].endswith("[running]")
        assert "nb-state-running" in s._repr_mimebundle_()["text/html"]
    finally:
        go.set()
        s.wait(30)
    assert "nb-state-done" in s._repr_mimebundle_()["text/html"]


@pytest.mark.parametrize("where", [":memory:", "file"])
def test_ctrl_c_ends_run_with_a_short_resumable_message(tmp_path, where, monkeypatch):
    from nasbook._errors import SearchInterrupted
    from nasbook.search import _loop

    monkeypatch.setattr(_loop, "in_ipython", lambda: True)  # a notebook kernel

    def ctrl_c_after_5(search, trial):
        if search.n_trials == 5:
            raise KeyboardInterrupt

    storage = ":memory:" if where == ":memory:" else str(tmp_path / "k.db")
    s = nasbook.Search(NasBenchGraph("cora"), budget=20, seed=0, storage=storage, name="k", callbacks=[ctrl_c_after_5])
    with pytest.raises(KeyboardInterrupt) as info:  # still a KeyboardInterrupt: "Run All" stops, handlers catch it
        s.run(progress="none")
    assert isinstance(info.value, SearchInterrupted)
    lines = info.value._render_traceback_()  # what IPython shows instead of the loop's frames
    assert len(lines) == 1 and "interrupted after 5 trials" in lines[0] and "run() again" in lines[0]
    if where == "file":
        assert f"nasbook.load_search('k', {storage!r}).run()" in lines[0]
    s.callbacks.clear()
    assert s.run(progress="none").n_trials == 20


def test_ctrl_c_in_a_script_stays_a_plain_keyboard_interrupt(tmp_path):
    # Python exits with the SIGINT status (130 in a shell) only for KeyboardInterrupt itself, not a subclass
    script = tmp_path / "s.py"
    script.write_text(
        "import nasbook\nfrom nasbook.tasks import NasBenchGraph\n"
        "def cb(s, t):\n    if s.n_trials == 3:\n        raise KeyboardInterrupt\n"
        f"nasbook.Search(NasBenchGraph('cora'), budget=9, seed=0, storage={str(tmp_path / 's.db')!r}, "
        "callbacks=[cb]).run(progress='none')\n")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode in (-2, 130, 0xC000013A), proc.stderr[-500:]
    # still the plain type, saying what is stored, in one line (tests/search/test_interrupt_script.py)
    assert proc.stderr.strip().splitlines()[-1].startswith("KeyboardInterrupt: Search ")
