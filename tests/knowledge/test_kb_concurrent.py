"""Two processes writing 1,000 trials each into one knowledge base: 2,000 trials, none lost, on both backends."""

import subprocess
import sys

import pytest

from nasbook import KnowledgeBase

CHILD = """
import sys
import nasbook
from nasbook.space import ChainSpace
from nasbook.testing import ToyTask

url, name, own = sys.argv[1], sys.argv[2], sys.argv[3]
space = ChainSpace(kind="mlp", max_depth=3)
kb = nasbook.KnowledgeBase(url)
# one process stores its search in the kb's store, the other in a store of its own (mirrored)
nasbook.Search(space, ToyTask(space, seed=int(name[-1])), budget=1000, seed=int(name[-1]), name=name, kb=kb,
               storage=own if own != "-" else None).run(progress="none")
"""


@pytest.mark.slow
def test_two_processes_write_1000_trials_each_into_one_kb(store_url, tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    procs = [subprocess.Popen([sys.executable, str(script), store_url, name, own], stderr=subprocess.PIPE, text=True)
             for name, own in (("p1", "-"), ("p2", str(tmp_path / "own.db")))]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-2000:]
    kb = KnowledgeBase(store_url)
    df = kb.trials(states=None)
    assert len(df) == 2000
    for name in ("p1", "p2"):
        assert sorted(df[df.search == name]["number"]) == list(range(1000))  # none lost, none twice
    assert kb.tasks["n_trials"].sum() == 2000
    kb.close()
