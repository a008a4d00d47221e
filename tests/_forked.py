"""New processes for tests that need one, forked from multiprocessing's fork server rather than each a new
interpreter (imported as a plain module: pytest puts the tests folder on ``sys.path``).

The fork server imports nasbook and the libraries the tests' children load (``PRELOAD``) once per test run and
does nothing else: no store opened, no client or cluster made, no test code run (its one other thread is the
allocator's that importing pandas starts, jemalloc's, which handles fork). Each ``call`` is a new process forked
from it (a ``ProcessPoolExecutor`` whose one worker runs one task), so it starts as a fresh interpreter would
after those imports, without paying ~1 s of interpreter start and imports. Where the fork server is unavailable
(Windows), ``FORKSERVER`` is false and callers start a new interpreter, as before."""

import multiprocessing
import os
import runpy
import signal
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver

FORKSERVER = "forkserver" in multiprocessing.get_all_start_methods()

# One fork server per test run, so one list for every caller: an import that fails is skipped by the server
# (optuna is optional; _kb_samples is importable once tests/knowledge is on sys.path).
PRELOAD = ["numpy", "pandas", "scipy.stats", "sklearn.ensemble", "sqlalchemy", "nasbook", "nasbook.knowledge",
           "nasbook.tasks", "optuna", "_forked", "_kb_samples"]


def _guarded(timeout, env, cwd, fn, args):
    signal.alarm(timeout)  # still running after ``timeout`` s: killed by SIGALRM, and the pool reports it broken
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    return fn(*args)


def _start_server():
    """Start the fork server (once) with this process's ``sys.path``, so that it preloads the modules this process
    would import: Python 3.11 starts it with the default path only (its ``sys_path`` argument is unused), without
    the folders pytest added (the tests folders), so its preload of ``_forked`` and ``_kb_samples`` failed and
    could take another nasbook than this process's."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p or os.curdir for p in sys.path)
    try:
        forkserver.ensure_running()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


def call(fn, *args, env=None, timeout=300):
    """``fn(*args)`` in a new process forked from the fork server, with the caller's working folder and environment
    (or ``env``): its return value, or its exception raised here (``fn`` and its arguments are pickled: a
    module-level function the server can import)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read when the server starts: the first call of the test run
    _start_server()
    env = dict(os.environ if env is None else env)
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx, max_tasks_per_child=1) as pool:
        return pool.submit(_guarded, timeout, env, os.getcwd(), fn, args).result(timeout=timeout + 60)


def run_script(argv, stdout, stderr):
    """``python *argv`` in this process: ``argv[0]`` run as ``__main__`` with that ``sys.argv``, its output
    written to the files ``stdout`` and ``stderr``; the exit status the interpreter gives."""
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, stdout, os.O_WRONLY | os.O_CREAT),
                            (2, stderr, os.O_WRONLY | os.O_CREAT)):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(argv[0])))
    code = 1
    try:
        runpy.run_path(argv[0], run_name="__main__")
        code = 0
    except SystemExit as e:  # as the interpreter treats it
        if e.code is None or isinstance(e.code, int):
            code = e.code or 0
        else:
            print(e.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return code
