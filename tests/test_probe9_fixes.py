"""Defects benchmarks/outside_probe9.py found: ``run(progress="widget")`` in a script (or a terminal IPython) printed
the ipywidgets box's repr, a wall of markup, and never the final state; ``storage="   "`` made a file named by
blanks; a PostgreSQL server's refusal (libpq's "Is the server running...?" hint) gave a message spanning lines;
a search name with a line break or tab was accepted (it split ``nasbook list``'s rows); ``trial_timeout_s`` was
silently ignored with ``executor="local"``."""
import subprocess
import sys
import textwrap

import pytest

import nasbook
from nasbook import InvalidParameterError, NasbookError, StorageError
from nasbook.space import ChainSpace
from nasbook.tasks import DigitsTable
from nasbook.testing import ToyTask

SCRIPT = textwrap.dedent("""
    import nasbook
    from nasbook.tasks import DigitsTable
    s = nasbook.Search(DigitsTable(), budget=30, seed=0, storage=":memory:", name="scripted")
    s.run(progress="widget")
    s.extend(10)
    s.run(progress="widget")
    s.close()
""")


def test_widget_progress_in_a_script_prints_summary_lines_not_the_widget_markup(tmp_path):
    pytest.importorskip("ipywidgets")
    path = tmp_path / "script.py"
    path.write_text(SCRIPT)
    p = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=300, check=True)
    lines = p.stdout.splitlines()
    assert "VBox(" not in p.stdout and "<span" not in p.stdout and "<svg" not in p.stdout
    assert lines[0] == "scripted: created, 0 of 30 trials"
    assert lines[1].startswith("scripted: done, 30 of 30 trials, best val_accuracy ")
    assert lines[-1].startswith("scripted: done, 40 of 40 trials, best val_accuracy ") and len(lines) == 4


def test_widget_progress_in_a_terminal_ipython_shows_its_text(capsys):
    pytest.importorskip("ipywidgets")
    import atexit

    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False  # no history database: its exit hook failed on it at the end of a CI run
    shell = InteractiveShell.instance(config=config)
    try:
        s = nasbook.Search(DigitsTable(), budget=5, seed=0, storage=":memory:", name="shelled").run(progress="widget")
    finally:
        atexit.unregister(shell.atexit_operations)  # the shell is gone with this test: nothing of it runs at exit
        InteractiveShell.clear_instance()
        del shell
    out = capsys.readouterr().out
    assert "VBox(" not in out and "IntProgress(" not in out
    assert "shelled: created, 0 of 5 trials" in out and f"shelled: done, 5 of 5 trials, best val_accuracy {s.best.value:.4g}" in out


@pytest.mark.parametrize("blank", ["   ", "\t", " \n"])
def test_a_blank_storage_path_is_refused_and_makes_no_file(blank, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameterError, match="storage must be a file path"):
        nasbook.Search(DigitsTable(), budget=2, storage=blank)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_refuses_the_connection_is_named_on_one_line():
    pytest.importorskip("psycopg")
    from nasbook.storage import open_storage

    with pytest.raises(StorageError) as e:  # port 1: nothing listens; libpq adds a hint on a second line
        open_storage("postgresql+psycopg://someone:hunter2@127.0.0.1:1/db")
    text = str(e.value)
    assert "\n" not in text and "\t" not in text and "port 1" in text and "hunter2" not in text


@pytest.mark.parametrize("name", ["line\nbreak", "tab\there", "cr\rhere", "nul\x00here", "sep\u2028here"])
def test_a_search_name_with_a_control_character_is_refused(name):
    with pytest.raises(InvalidParameterError, match="name=.*control characters"):
        nasbook.Search(DigitsTable(), budget=2, storage=":memory:", name=name)


@pytest.mark.parametrize("name", ["données ß 🚀 東京", "non\u00a0breaking", "x'; DROP TABLE searches;--"])
def test_printable_unicode_names_are_still_accepted(name):
    s = nasbook.Search(DigitsTable(), budget=2, storage=":memory:", name=name).run(progress="none")
    assert s.name == name and s.n_trials == 2


def test_trial_timeout_s_stops_and_fails_a_local_trial_at_its_report():
    space = ChainSpace(kind="mlp")
    epochs_run: list[int] = []

    class Counted(ToyTask):  # runs in this process (executor="local"): counts the epochs each trial reported
        def evaluate(self, arch, *, report=None, **kw):
            epochs_run.append(0)

            def counted(epoch, **metrics):
                epochs_run[-1] += 1
                return report(epoch, **metrics)

            return super().evaluate(arch, report=counted, **kw)

    task = Counted(space, epochs=6, epoch_s=0.25)  # each epoch sleeps 0.25 s: the limit 0.3 s is past at the second report
    s = nasbook.Search(space, task, budget=2, seed=0, storage=":memory:", trial_timeout_s=0.3).run(progress="none")
    assert [t.state.value for t in s.trials] == ["failed", "failed"]
    assert all(t.reason == "timed out after 0.3 s (trial_timeout_s)" for t in s.trials)
    assert len(epochs_run) == 2 and all(n < 6 for n in epochs_run)  # stopped at a report, not run to its 6th epoch


def test_trial_timeout_s_leaves_a_local_trial_within_it_alone():
    space = ChainSpace(kind="mlp")
    s = nasbook.Search(space, ToyTask(space, epochs=2), budget=3, seed=0, storage=":memory:", trial_timeout_s=60).run(progress="none")
    assert [t.state.value for t in s.trials] == ["complete"] * 3


def test_the_local_executor_alone_has_no_limit():
    from nasbook.executors import LocalExecutor

    assert LocalExecutor().trial_timeout_s is None
    with pytest.raises(NasbookError):  # unchanged: the parameter is still checked
        nasbook.Search(DigitsTable(), budget=2, storage=":memory:", trial_timeout_s=-1)


def _gated():
    """(entered, gate, Gated): a ToyTask class whose trials set ``entered``, then wait for ``gate``."""
    import threading

    entered, gate = threading.Event(), threading.Event()

    class Gated(ToyTask):
        def evaluate(self, arch, **kw):
            entered.set()
            gate.wait(60)
            return super().evaluate(arch, **kw)

    return entered, gate, Gated


@pytest.mark.timeout(120)  # the old code hung here
def test_one_executor_object_runs_one_search_at_a_time():
    # two searches started at once on one LocalExecutor() (or DaskExecutor(client)) took each other's results and
    # both waited forever; the second is now refused before it runs anything, and may run once the first is done
    from nasbook import ExecutorError
    from nasbook.executors import LocalExecutor

    space = ChainSpace(kind="mlp")
    entered, gate, Gated = _gated()

    ex = LocalExecutor()
    a = nasbook.Search(space, Gated(space), budget=2, seed=0, storage=":memory:", name="a", executor=ex).start(progress="none")
    b = nasbook.Search(space, ToyTask(space), budget=2, seed=0, storage=":memory:", name="b", executor=ex)
    try:
        assert entered.wait(60)  # a's run holds the executor now
        for call in (lambda: b.run(progress="none"), lambda: b.start(progress="none")):
            with pytest.raises(ExecutorError, match="is running search 'a' now.*one search at a time"):
                call()
        assert b.n_trials == 0 and b.state.value == "created"
    finally:
        gate.set()
        a.wait(timeout_s=60)
    assert a.n_trials == 2
    assert b.run(progress="none").n_trials == 2  # the executor is free again


@pytest.mark.timeout(120)
def test_closing_a_search_leaves_open_the_executor_another_search_runs_on():
    # a.close() closed the executor object b was running on (a DaskExecutor's cluster went away under b's trials,
    # and b waited forever); it is now left to b's own close()
    from nasbook.executors import LocalExecutor

    class Closable(LocalExecutor):
        closed = 0

        def close(self):
            self.closed += 1

    space = ChainSpace(kind="mlp")
    entered, gate, Gated = _gated()

    ex = Closable()
    a = nasbook.Search(space, ToyTask(space), budget=2, seed=0, storage=":memory:", name="a", executor=ex).run(progress="none")
    b = nasbook.Search(space, Gated(space), budget=2, seed=1, storage=":memory:", name="b", executor=ex).start(progress="none")
    try:
        assert entered.wait(60)
        a.close()
        assert ex.closed == 0
    finally:
        gate.set()
        b.wait(timeout_s=60)
    assert b.n_trials == 2
    b.close()
    assert ex.closed == 1
