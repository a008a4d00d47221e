"""The space contract must catch broken spaces (a contract that cannot fail is no contract).

Each broken space below is a small ChainSpace with one promise broken; the matching check of
:class:`nasbook.testing.SpaceContract` must fail on it, while the intact space passes them all.
"""

import uuid

import numpy as np
import pytest

from nasbook.space import Architecture, ChainSpace
from nasbook.testing import SpaceContract


class Tiny(ChainSpace):
    """4 one-layer and 16 two-layer MLP chains."""

    def __init__(self, kind="mlp", min_depth=1, max_depth=2, widths=(8, 16), ops=("relu", "tanh")):
        super().__init__(kind=kind, min_depth=min_depth, max_depth=max_depth, widths=widths, ops=ops)


class SamplesNonMembers(Tiny):
    """Every fifth draw is a chain deeper than max_depth."""

    def sample(self, rng):
        arch = super().sample(rng)
        if rng.random() < 0.2:
            spec = {"layers": arch["layers"] * 3}
            return Architecture(self.space_id, "deep-" + arch.id, spec)
        return arch


class UsesGlobalRandom(Tiny):
    def sample(self, rng):
        return super().sample(np.random.default_rng(np.random.randint(2**31)))


class IgnoresTheGenerator(Tiny):
    def sample(self, rng):
        return super().sample(np.random.default_rng(0))


class NotUniform(Tiny):
    """Draws the depth first, then the layers: one-layer chains are drawn far too often."""

    def sample(self, rng):
        depth = int(rng.integers(self.min_depth, self.max_depth + 1))
        choices = self.layer_choices
        return self.make(layers=[list(choices[int(rng.integers(len(choices)))]) for _ in range(depth)])


class RandomIds(Tiny):
    """A fresh id every time an architecture is made: ids are not a function of the spec."""

    def _arch(self, key):
        return Architecture(self.space_id, uuid.uuid4().hex[:12], {"layers": [[op, w] for op, w in key]})

    def validate(self, arch):
        return self._check_space_id(arch)  # space_id only, or nothing would be a member


class SaltedIds(Tiny):
    """Ids from Python's hash(), which is salted per interpreter: stable here, not on resume."""

    def _arch(self, key):
        arch = self._archs.get(key)
        if arch is None:
            arch = self._archs[key] = Architecture(self.space_id, f"{hash(key) & 0xFFFFFFFF:08x}", {"layers": [[o, w] for o, w in key]})
        return arch


class HiddenWidths(Tiny):
    """Keeps an argument as ``self._extra``: the space id, a clone and a stored search leave it out."""

    def __init__(self, kind="mlp", min_depth=1, max_depth=2, widths=(8, 16), ops=("relu", "tanh"), extra=1):
        super().__init__(kind=kind, min_depth=min_depth, max_depth=max_depth, widths=widths, ops=ops)
        self._extra = extra


class AcceptsAnything(Tiny):
    def validate(self, arch):
        return arch


class TrustsTheSpaceId(Tiny):
    """Checks the space id but not the spec: forged architectures get through."""

    def validate(self, arch):
        return self._check_space_id(arch)


class RaggedEncoding(Tiny):
    """The encoding stops at the chain's depth instead of padding to max_depth."""

    def _encode(self, arch, kind):
        block = len(self._ops) + len(self._widths)
        return super()._encode(arch, kind)[: block * len(arch["layers"])]


class NoisyEncoding(Tiny):
    def _encode(self, arch, kind):
        vec = super()._encode(arch, kind)
        vec[0] += np.float32(np.random.random())
        return vec


class ShortFeatureNames(Tiny):
    """Names one column fewer than the encoding has."""

    def feature_names(self, kind="adjacency"):
        return super().feature_names(kind)[:-1]


class OneVersionForAllKinds(Tiny):
    def encoding_version(self, kind="adjacency"):
        return "v1"


class EnumeratesTooFew(Tiny):
    def _enumerate(self):
        return super()._enumerate()[:-1]


class NeighbourOfItself(Tiny):
    def neighbours(self, arch):
        return [arch, *super().neighbours(arch)]


class MutatesFar(Tiny):
    """mutate() redraws from scratch instead of taking a neighbour (and may return the input)."""

    def mutate(self, arch, rng):
        return self.sample(rng)


class OffByOne(Tiny):
    """Forgets one architecture when counting (and so never samples it)."""

    @property
    def cardinality(self):
        return super().cardinality - 1


class ForgetfulPickle(Tiny):
    """Pickles lose max_depth: the unpickled space is another space."""

    def __setstate__(self, state):
        super().__setstate__({**state, "max_depth": 1})


class BrokenRepr(Tiny):
    def __repr__(self):
        raise RuntimeError("no repr")


CHECKS = [name for name in dir(SpaceContract) if name.startswith("test_")]


def run(check, space):
    getattr(SpaceContract(), check)(space)


@pytest.mark.parametrize("check", CHECKS)
def test_intact_space_passes(check):
    try:
        run(check, Tiny())
    except pytest.skip.Exception:
        pass


CASES = [
    (SamplesNonMembers, "test_sample_returns_members"),
    (UsesGlobalRandom, "test_sample_deterministic_under_seed"),
    (IgnoresTheGenerator, "test_sample_uses_the_generator"),
    (NotUniform, "test_sample_is_uniform"),
    (RandomIds, "test_architectures_are_canonical"),
    (RandomIds, "test_ids_stable_across_instances"),
    (HiddenWidths, "test_ids_stable_across_instances"),
    (SaltedIds, "test_ids_stable_across_processes"),
    (AcceptsAnything, "test_validate_rejects_foreign_architectures"),
    (TrustsTheSpaceId, "test_validate_rejects_foreign_architectures"),
    (RaggedEncoding, "test_encodings_fixed_length_and_deterministic"),
    (NoisyEncoding, "test_encodings_fixed_length_and_deterministic"),
    (ShortFeatureNames, "test_encoding_names_and_versions"),
    (OneVersionForAllKinds, "test_encoding_names_and_versions"),
    (EnumeratesTooFew, "test_enumerate"),
    (NeighbourOfItself, "test_neighbours_and_mutations"),
    (MutatesFar, "test_neighbours_and_mutations"),
    (OffByOne, "test_cardinality"),
    (ForgetfulPickle, "test_pickle_round_trip"),
    (BrokenRepr, "test_repr"),
]


@pytest.mark.parametrize(("space_class", "check"), CASES, ids=[f"{cls.__name__}-{check}" for cls, check in CASES])
def test_contract_catches(space_class, check):
    # a failed check (an assertion, or pytest.raises seeing no error), not a skip and not a crash of the contract
    failed = (AssertionError, pytest.fail.Exception)
    with pytest.raises(RuntimeError if space_class is BrokenRepr else failed):
        run(check, space_class())


def test_every_check_catches_something():
    assert {check for _, check in CASES} == set(CHECKS)


def test_the_tiny_space_is_small_enough_to_check_fully():
    # so that cardinality and uniformity are really checked on it, not skipped
    assert Tiny().cardinality == 20 <= min(SpaceContract.max_uniformity_check, SpaceContract.max_enumerate)
