"""A store this process cannot write (a read-only file, a folder without write permission) is refused at once,
saying so, and left unchanged (SQLite's "attempt to write a readonly database" used to come out as a
database server that did not accept a connection)."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

import nasbook
from nasbook.tasks import NasBenchGraph

CHILD = textwrap.dedent(
    """
    import sys, time
    import nasbook
    from nasbook._errors import StorageError
    for path, make in ((sys.argv[1], "load"), (sys.argv[1], "kb"), (sys.argv[2], "kb")):
        t0 = time.monotonic()
        try:
            nasbook.load_search("r", path) if make == "load" else nasbook.KnowledgeBase(path)
        except StorageError as exc:
            print(f"{time.monotonic() - t0:.2f}|{exc}")
        else:
            print("opened")
    """
)


def _as_another_user(args, folder):
    """Run CHILD as an unprivileged user: root writes any file, whatever its mode."""
    if os.geteuid() != 0:
        return subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=120)
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a file read-only for this test")
    env = {**os.environ, "HOME": str(folder), "PYTHONPATH": str(Path(nasbook.__file__).parents[1])}
    return subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", CHILD, *args],
                          capture_output=True, text=True, timeout=120, env=env, cwd=folder)


def test_a_read_only_store_is_refused_saying_why_and_left_as_it_was():
    folder = Path(tempfile.mkdtemp(prefix="nasbook-ro-"))
    try:
        path = folder / "r.db"
        nasbook.Search(NasBenchGraph("cora"), budget=5, seed=0, storage=path, name="r").run(progress="none").storage.close()
        assert sorted(p.name for p in folder.iterdir()) == ["r.db"]  # closed: SQLite removed its -wal and -shm
        os.chmod(path, 0o444)
        os.chmod(folder, 0o755)  # readable, not writable, by another user
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        proc = _as_another_user([str(path), str(folder / "new.db")], folder)
        lines = proc.stdout.splitlines()
        assert len(lines) == 3, proc.stdout + proc.stderr
        for line in lines[:2]:
            took, message = line.split("|", 1)
            assert float(took) < 5
            assert "cannot be used: the file is read-only for this process (-r--r--r--" in message
            assert "Copy the file to a folder you can write" in message and "server" not in message
        assert "its folder" in lines[2] and "is read-only for this process" in lines[2]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
        assert sorted(p.name for p in folder.iterdir()) == ["r.db"]
    finally:
        os.chmod(folder, 0o700)
        shutil.rmtree(folder, ignore_errors=True)
