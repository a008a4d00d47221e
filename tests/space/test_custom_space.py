"""A third-party space written from the documented hooks alone (the abstract methods, ``validate`` in
``neighbours``) passes the public SpaceContract and runs through a search: the default ``validate``
refuses forged architectures, so a plug-in author does not have to write one."""

import itertools

import numpy as np
import pytest

import nasbook
from nasbook.space import Architecture, SearchSpace, stable_hash
from nasbook.testing import SpaceContract, ToyTask

WIDTHS = (16, 32)
ACTS = ("relu", "tanh")


class WidthSpace(SearchSpace):
    """MLPs of 1..max_depth hidden layers, each 16 or 32 wide, one activation."""

    name = "widths"

    def __init__(self, max_depth: int = 2):
        self.max_depth = max_depth

    @property
    def cardinality(self):
        return sum(len(WIDTHS) ** d for d in range(1, self.max_depth + 1)) * len(ACTS)

    def make(self, **spec):
        widths, act = spec.get("widths"), spec.get("act")
        if (set(spec) != {"widths", "act"} or not isinstance(widths, (list, tuple)) or not 1 <= len(widths) <= self.max_depth
                or any(w not in WIDTHS for w in widths) or act not in ACTS):
            raise nasbook.InvalidArchitectureError(f"not a member of {self!r}: {spec!r}")
        canon = {"widths": [int(w) for w in widths], "act": act}
        return Architecture(self.space_id, stable_hash(canon), canon)

    def _specs(self):
        return [{"widths": list(ws), "act": a} for d in range(1, self.max_depth + 1)
                for ws in itertools.product(WIDTHS, repeat=d) for a in ACTS]

    def sample(self, rng):
        specs = self._specs()
        return self.make(**specs[int(rng.integers(len(specs)))])

    def neighbours(self, arch):
        arch = self.validate(arch)
        w, a = arch["widths"], arch["act"]
        out = [self.make(widths=[*w[:i], x, *w[i + 1:]], act=a) for i in range(len(w)) for x in WIDTHS if x != w[i]]
        out += [self.make(widths=[*w, x], act=a) for x in WIDTHS] if len(w) < self.max_depth else []
        out += [self.make(widths=w[:-1], act=a)] if len(w) > 1 else []
        return out + [self.make(widths=w, act=b) for b in ACTS if b != a]

    def _encoding_size(self, kind):
        return self.max_depth * len(WIDTHS) + len(ACTS)

    def _encode(self, arch, kind):
        v = np.zeros(self._encoding_size(kind), dtype=np.float32)
        for i, w in enumerate(arch["widths"]):
            v[i * len(WIDTHS) + WIDTHS.index(w)] = 1
        v[self.max_depth * len(WIDTHS) + ACTS.index(arch["act"])] = 1
        return v


class TestWidthSpace(SpaceContract):
    @pytest.fixture
    def space(self):
        return WidthSpace()


def test_the_default_validate_refuses_a_forged_architecture_and_says_why():
    space = WidthSpace()
    arch = space.sample(np.random.default_rng(0))
    for forged in (Architecture(space.space_id, arch.id, {"widths": [999], "act": "relu"}),  # right id, edited spec
                   Architecture(space.space_id, "forged", arch.spec)):  # right spec, wrong id
        with pytest.raises(nasbook.InvalidArchitectureError, match=r"WidthSpace\.make\(\*\*arch\.spec\)"):
            space.validate(forged)
        assert forged not in space
    assert space.validate(arch) is arch and arch in space


def test_a_search_over_it_resumes_exactly(tmp_path):
    space = WidthSpace(max_depth=3)
    task = ToyTask(space, seed=1)
    full = nasbook.Search(space, task, strategy="evolution", budget=20, seed=3, storage=":memory:").run(progress=False)
    path = tmp_path / "custom.db"
    nasbook.Search(space, task, strategy="evolution", budget=9, seed=3, storage=path, name="w").run(progress=False)
    resumed = nasbook.load_search("w", path, space=WidthSpace(max_depth=3), task=task, budget=20).run(progress=False)
    assert [t.arch.id for t in resumed.trials] == [t.arch.id for t in full.trials]
