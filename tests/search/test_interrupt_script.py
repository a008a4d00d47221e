"""Ctrl-C (SIGINT) in a script's ``Search.run()``: one line on stderr saying what is stored and how to resume, no
wall of frames from inside the loop; the process still exits as killed by SIGINT (status 130 in a shell), and the
search resumes. A hook the script set itself (``sys.excepthook``) is left alone. Found by
benchmarks/outside_probe10.py (part sigint): the traceback was 40 lines, ending in a bare ``KeyboardInterrupt``."""

import signal
import sqlite3
import subprocess
import sys
import textwrap

import nasbook
from nasbook.space import GraphSpace
from nasbook.space._graph import PROTEINS_OPS
from nasbook.testing import ToyTask

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import nasbook
    from nasbook.space import GraphSpace
    from nasbook.space._graph import PROTEINS_OPS
    from nasbook.testing import ToyTask

    if sys.argv[2] == "own-hook":
        sys.excepthook = lambda tp, value, tb: print(f"own hook: {tp.__name__}", file=sys.stderr)

    def ctrl_c(search, trial):
        if search.n_trials == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it on Ctrl-C

    space = GraphSpace(ops=PROTEINS_OPS)
    nasbook.Search(space, ToyTask(space), strategy="random", budget=8, seed=1, storage=sys.argv[1], name="cc",
                   callbacks=[ctrl_c]).run(progress="none")
    """
)


def _terminal_sigint() -> None:
    # Ctrl-C as in a terminal: SIGINT at its default, which Python turns into KeyboardInterrupt. A process started in
    # the background by a non-interactive shell (a CI runner, nohup ... &) inherits SIGINT ignored, and its child
    # Python would then ignore the os.kill below and run to the end (exit 0)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _run(tmp_path, hook="default"):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    path = tmp_path / "cc.db"
    proc = subprocess.run([sys.executable, str(script), str(path), hook], capture_output=True, text=True, timeout=120,
                          preexec_fn=_terminal_sigint)
    return proc, path


def test_ctrl_c_in_a_script_says_one_line_and_exits_as_interrupted(tmp_path):
    proc, path = _run(tmp_path)
    assert proc.returncode == -signal.SIGINT  # Python's exit for an uncaught KeyboardInterrupt: 130 in a shell
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith("KeyboardInterrupt: Search 'cc' interrupted after 3 trials.")
    assert f"nasbook.load_search('cc', {str(path)!r}).run()" in lines[0]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT state FROM nasbook_searches").fetchone()[0] == "interrupted"
        assert [n for (n,) in conn.execute("SELECT number FROM nasbook_trials ORDER BY number")] == [0, 1, 2]
    space = GraphSpace(ops=PROTEINS_OPS)
    resumed = nasbook.load_search("cc", path, task=ToyTask(space)).run(progress="none")
    assert [t.number for t in resumed.trials] == list(range(8))


def test_ctrl_c_in_a_script_on_a_memory_store_says_nothing_is_kept(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.run([sys.executable, str(script), ":memory:", "default"], capture_output=True, text=True, timeout=120,
                          preexec_fn=_terminal_sigint)
    assert proc.returncode == -signal.SIGINT
    assert proc.stderr.strip() == ("KeyboardInterrupt: Search 'cc' interrupted after 3 trials, kept in memory only "
                                   "(storage=':memory:'): they end with this process.")


def test_a_hook_the_script_set_is_left_alone(tmp_path):
    proc, _ = _run(tmp_path, "own-hook")
    assert proc.returncode == -signal.SIGINT
    assert proc.stderr.strip() == "own hook: KeyboardInterrupt"
