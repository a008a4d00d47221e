"""The contract every search space passes (like scikit-learn's estimator checks)."""

from __future__ import annotations

import copy
import json
import os
import pickle
import random
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from nasbook._errors import InvalidArchitectureError, InvalidParameterError, NotEnumerableError
from nasbook.space import Architecture, SearchSpace

# Rebuilds a space from its config in a fresh interpreter and prints the ids it gives.
_CHILD = """
import importlib, json, sys
import numpy as np
p = json.loads(sys.stdin.read())
cls = importlib.import_module(p["module"])
for part in p["qualname"].split("."):
    cls = getattr(cls, part)
space = cls.from_config(p["config"])
rng = np.random.default_rng(p["seed"])
print(json.dumps({"space_id": space.space_id, "made": [space.from_dict(d).id for d in p["specs"]],
                  "sampled": [space.sample(rng).id for _ in p["specs"]]}))
"""


class SpaceContract:
    """Subclass and provide a ``space`` fixture; every ``test_*`` method checks one promise of
    :class:`~nasbook.space.SearchSpace`:

    - ``sample(rng)`` returns members, is a function of the generator alone, and is uniform over
      architectures (small spaces; set ``uniform_sampling = False`` to skip);
    - architectures are canonical: ``from_dict(arch.to_dict())`` and ``make(**arch.to_dict())``
      give the same architecture with the same id, the id is a function of the canonical spec,
      and it does not change in a fresh instance (from ``to_config()`` or ``get_params()``) nor in
      a fresh interpreter (so it is not built on Python's salted ``hash``);
    - ``validate`` refuses anything that is not a member (other objects, other spaces' or forged
      architectures) with :class:`~nasbook._errors.InvalidArchitectureError`;
    - every kind of ``space.encodings`` has one length per space and is deterministic, finite
      float32; ``feature_names(kind)`` names every column once; ``encoding_version(kind)`` is a
      string that differs between kinds and is the same in a fresh instance; an unknown kind
      raises InvalidParameterError naming ``kind`` and the supported kinds;
    - ``enumerate()`` lists every architecture once, in the same order every time (spaces of at
      most ``max_enumerate`` architectures; a space may refuse with NotEnumerableError), and
      refuses a ``limit`` below ``cardinality``;
    - ``neighbours`` are members, never the architecture itself, without repeats, in a fixed
      order; ``mutate`` returns a member other than its input, one of the neighbours when there
      are any, the same one for the same seed;
    - ``cardinality`` equals the number of architectures found by walking neighbours and sampling
      (spaces of at most ``max_enumerate`` architectures);
    - spaces and architectures pickle, and ``repr`` works.

    Examples
    --------
    >>> class TestMySpace(SpaceContract):  # doctest: +SKIP
    ...     @pytest.fixture
    ...     def space(self):
    ...         return MySpace(n_layers=3)
    """

    #: architectures drawn per check
    n_samples: int = 40
    seed: int = 0
    #: spaces with at most this many architectures are enumerated to check ``cardinality``
    max_enumerate: int = 3000
    #: spaces with at most this many architectures are checked for uniform sampling
    max_uniformity_check: int = 300
    #: False for spaces whose ``sample`` is deliberately not uniform
    uniform_sampling: bool = True

    @pytest.fixture
    def space(self) -> SearchSpace:
        raise NotImplementedError("subclasses provide a `space` fixture returning the space to check")

    # -- helpers ------------------------------------------------------------------------------------
    def _samples(self, space: SearchSpace, seed: int | None = None, n: int | None = None) -> list[Architecture]:
        rng = np.random.default_rng(self.seed if seed is None else seed)
        return [space.sample(rng) for _ in range(self.n_samples if n is None else n)]

    @staticmethod
    def _fresh(space: SearchSpace) -> SearchSpace:
        """The space rebuilt from its JSON config."""
        config = json.loads(json.dumps(space.to_config()))
        assert config["class"] == type(space).__name__, f"to_config() names class {config['class']!r}"
        return type(space).from_config(config)

    def enumerate_space(self, space: SearchSpace) -> set[str]:
        """Ids of every architecture reachable by sampling and walking neighbours.

        Override for a space whose neighbour graph does not connect it and whose sampling
        misses architectures (it should not: sampling is uniform).

        Parameters
        ----------
        space : SearchSpace
            The ``space`` fixture.

        Returns
        -------
        set of str
            The ids found, compared with :attr:`SearchSpace.cardinality` by the contract.
        """
        card = space.cardinality
        rng = np.random.default_rng(self.seed)
        todo = [space.sample(rng) for _ in range(min(50_000, 20 * card))]
        seen: dict[str, Architecture] = {}
        while todo:
            arch = todo.pop()
            if arch.id in seen:
                continue
            assert arch in space, f"architecture {arch!r} reached by sampling or neighbours is not a member"
            seen[arch.id] = arch
            assert len(seen) <= card, f"found more than cardinality={card} architectures"
            todo.extend(n for n in space.neighbours(arch) if n.id not in seen)
        return set(seen)

    # -- sampling -----------------------------------------------------------------------------------
    def test_sample_returns_members(self, space: SearchSpace) -> None:
        for arch in self._samples(space):
            assert isinstance(arch, Architecture), f"sample() returned {arch!r} of type {type(arch).__name__}"
            assert arch.space_id == space.space_id, f"{arch!r} carries space_id {arch.space_id!r}, not {space.space_id!r}"
            assert arch in space, f"sample() returned {arch!r}, which is not a member of {space!r}"
            assert space.validate(arch) == arch

    def test_sample_deterministic_under_seed(self, space: SearchSpace) -> None:
        # global random state must not matter: only the generator passed in
        np.random.seed(1)
        random.seed(1)
        first = [a.id for a in self._samples(space, seed=7)]
        np.random.seed(2)
        random.seed(2)
        second = [a.id for a in self._samples(space, seed=7)]
        assert first == second, "sample() with two generators seeded alike gave different architectures"
        again = [a.id for a in self._samples(self._fresh(space), seed=7)]
        assert first == again, "a fresh instance of the space samples differently under the same seed"

    def test_sample_uses_the_generator(self, space: SearchSpace) -> None:
        if space.cardinality < 2:
            pytest.skip("a space of one architecture has nothing to draw")
        ids = [a.id for a in self._samples(space, n=max(self.n_samples, 20))]
        assert len(set(ids)) > 1, "sample() returned the same architecture every time"
        other = [a.id for a in self._samples(space, seed=self.seed + 1, n=len(ids))]
        assert ids != other, "sample() gave the same sequence under two different seeds"

    def test_sample_is_uniform(self, space: SearchSpace) -> None:
        card = space.cardinality
        if not self.uniform_sampling or card > self.max_uniformity_check or card < 2:
            pytest.skip("uniformity is checked on spaces of 2 to max_uniformity_check architectures")
        from scipy import stats

        counts: dict[str, int] = {}
        for arch in self._samples(space, n=50 * card):
            counts[arch.id] = counts.get(arch.id, 0) + 1
        observed = list(counts.values()) + [0] * (card - len(counts))
        assert len(counts) <= card, f"sampled {len(counts)} distinct architectures of a space of {card}"
        p = stats.chisquare(observed).pvalue
        assert p > 1e-6, f"sample() is not uniform over the {card} architectures (chi-square p={p:.2g})"

    # -- canonical form and identity ------------------------------------------------------------------
    def test_architectures_are_canonical(self, space: SearchSpace) -> None:
        archs = self._samples(space)
        archs += [n for a in archs[:5] for n in space.neighbours(a)]
        by_spec: dict[str, str] = {}
        for arch in archs:
            spec = arch.to_dict()
            for again in (space.from_dict(spec), space.make(**spec), space.from_dict(json.loads(arch.to_json()))):
                assert again == arch and again.id == arch.id, (
                    f"rebuilding {arch!r} from its spec gave {again!r}: the id is not a function of the canonical spec"
                )
                assert again.to_dict() == spec, f"the spec of {arch!r} is not canonical: it became {again.to_dict()!r}"
                assert hash(again) == hash(arch)
            key = json.dumps(spec, sort_keys=True)
            assert by_spec.setdefault(key, arch.id) == arch.id, f"one spec {spec!r} has two ids"
        ids: dict[str, str] = {}
        for key, arch_id in by_spec.items():
            assert ids.setdefault(arch_id, key) == key, f"id {arch_id!r} names two different specs"

    def test_ids_stable_across_instances(self, space: SearchSpace) -> None:
        archs = self._samples(space)
        for fresh in (self._fresh(space), type(space)(**space.get_params())):
            assert fresh == space and fresh.space_id == space.space_id and hash(fresh) == hash(space), (
                f"a fresh instance {fresh!r} is another space ({fresh.space_id!r}, not {space.space_id!r})"
            )
            for arch in archs:
                assert arch in fresh, f"{arch!r} is not a member of a fresh instance of its space"
                again = fresh.from_dict(arch.to_dict())
                assert again == arch and again.id == arch.id, f"a fresh instance of the space makes {again!r} of {arch!r}"

    def test_ids_stable_across_processes(self, space: SearchSpace) -> None:
        cls = type(space)
        if "<locals>" in cls.__qualname__:
            pytest.skip(f"{cls.__qualname__} is defined in a function: a fresh interpreter cannot import it")
        archs = self._samples(space)
        payload = json.dumps({
            "module": cls.__module__, "qualname": cls.__qualname__, "config": space.to_config(),
            "specs": [a.to_dict() for a in archs], "seed": self.seed,
        })
        path = os.pathsep.join(p for p in sys.path if p)
        for hash_seed in ("1", "2"):  # str hashes differ between these two interpreters
            env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": path}
            done = subprocess.run([sys.executable, "-c", _CHILD], input=payload, capture_output=True, text=True,
                                  env=env, timeout=300)
            if done.returncode != 0 and f"No module named {cls.__module__.split('.')[0]!r}" in done.stderr:
                pytest.skip(f"a fresh interpreter cannot import {cls.__module__}")
            assert done.returncode == 0, f"rebuilding the space in a fresh interpreter failed:\n{done.stderr}"
            got = json.loads(done.stdout.strip().splitlines()[-1])
            assert got["space_id"] == space.space_id, "space_id differs in a fresh interpreter"
            assert got["made"] == [a.id for a in archs], "architecture ids differ in a fresh interpreter"
            assert got["sampled"] == [a.id for a in archs], "sample() draws differently in a fresh interpreter"

    # -- membership ---------------------------------------------------------------------------------
    def test_validate_rejects_foreign_architectures(self, space: SearchSpace) -> None:
        arch = self._samples(space, n=1)[0]
        spec = arch.to_dict()
        foreign: list[Any] = [
            "abc",
            None,
            spec,
            Architecture("other-" + space.space_id, arch.id, spec),  # another space's
            Architecture(space.space_id, arch.id, {"__forged__": [1, 2, 3]}),  # right id, wrong spec
            Architecture(space.space_id, "forged-" + arch.id, spec),  # right spec, wrong id
        ]
        for obj in foreign:
            with pytest.raises(InvalidArchitectureError):
                space.validate(obj)
            assert obj not in space, f"{obj!r} passes as a member of {space!r}"
        forged = foreign[4]
        with pytest.raises(InvalidArchitectureError):
            space.encode(forged)
        with pytest.raises(InvalidArchitectureError):
            space.neighbours(forged)

    # -- encodings ------------------------------------------------------------------------------------
    def test_encodings_fixed_length_and_deterministic(self, space: SearchSpace) -> None:
        archs = self._samples(space)
        fresh = self._fresh(space)
        kinds = space.encodings
        assert isinstance(kinds, tuple) and kinds and all(isinstance(k, str) for k in kinds), (
            f"space.encodings must be a non-empty tuple of kind names; got {kinds!r}"
        )
        assert len(set(kinds)) == len(kinds), f"space.encodings repeats a kind: {kinds!r}"
        for kind in kinds:
            size = space.encoding_size(kind)
            assert isinstance(size, int) and size > 0, f"encoding_size({kind!r}) is {size!r}"
            rows = []
            for arch in archs:
                vec = space.encode(arch, kind)
                assert isinstance(vec, np.ndarray) and vec.shape == (size,), (
                    f"encode(arch, {kind!r}) has shape {getattr(vec, 'shape', None)}; encoding_size says ({size},)"
                )
                assert vec.dtype == np.float32 and np.isfinite(vec).all()
                for other in (space.encode(space.from_dict(arch.to_dict()), kind), fresh.encode(arch, kind)):
                    assert np.array_equal(vec, other), f"encode({arch!r}, {kind!r}) is not deterministic"
                rows.append(vec)
            many = space.encode_many(archs, kind)
            np.testing.assert_array_equal(many, np.stack(rows))
            if len({a.id for a in archs}) > 1:
                assert len({r.tobytes() for r in rows}) > 1, f"every architecture has the same {kind!r} encoding"
        with pytest.raises(InvalidParameterError):
            space.encode(archs[0], "no-such-encoding")

    def test_encoding_names_and_versions(self, space: SearchSpace) -> None:
        fresh = self._fresh(space)
        versions: dict[str, str] = {}
        for kind in space.encodings:
            names = space.feature_names(kind)
            size = space.encoding_size(kind)
            assert isinstance(names, list) and len(names) == size, (
                f"feature_names({kind!r}) has {len(names)} names for {size} columns"
            )
            assert all(isinstance(n, str) and n for n in names), f"feature_names({kind!r}) holds a non-string or empty name"
            assert len(set(names)) == len(names), f"feature_names({kind!r}) repeats a name"
            version = space.encoding_version(kind)
            assert isinstance(version, str) and version, f"encoding_version({kind!r}) is {version!r}"
            assert fresh.encoding_version(kind) == version, f"encoding_version({kind!r}) differs in a fresh instance"
            versions[kind] = version
        assert len(set(versions.values())) == len(versions), f"two kinds share an encoding_version: {versions!r}"
        arch = self._samples(space, n=1)[0]
        for call in (lambda: space.encode(arch, "no-such-encoding"), lambda: space.encoding_size("no-such-encoding"),
                     lambda: space.encode_many([arch], "no-such-encoding")):
            with pytest.raises(InvalidParameterError) as info:
                call()
            text = str(info.value)
            assert "kind" in text and "no-such-encoding" in text and all(repr(k) in text for k in space.encodings), (
                f"an unknown encoding's error must name `kind`, what was given and the supported kinds; got {text!r}"
            )

    def test_enumerate(self, space: SearchSpace) -> None:
        card = space.cardinality
        if card > self.max_enumerate:
            pytest.skip(f"{card} architectures: more than max_enumerate={self.max_enumerate} to enumerate")
        try:
            archs = space.enumerate()
        except NotEnumerableError:
            pytest.skip(f"{type(space).__name__} cannot enumerate its architectures")
        ids = [a.id for a in archs]
        assert len(ids) == card, f"enumerate() gave {len(ids)} architectures; cardinality is {card}"
        assert len(set(ids)) == len(ids), "enumerate() repeats architectures"
        for arch in archs[:: max(1, card // 50)]:
            assert arch in space, f"enumerate() gave {arch!r}, which is not a member"
        assert [a.id for a in space.enumerate()] == ids, "enumerate() order is not fixed"
        assert [a.id for a in self._fresh(space).enumerate()] == ids, "enumerate() order differs in a fresh instance"
        if card > 1:
            with pytest.raises(InvalidParameterError):
                space.enumerate(limit=card - 1)

    # -- moves ----------------------------------------------------------------------------------------
    def test_neighbours_and_mutations(self, space: SearchSpace) -> None:
        for k, arch in enumerate(self._samples(space, n=10)):
            nbrs = space.neighbours(arch)
            ids = [n.id for n in nbrs]
            assert arch.id not in ids, f"neighbours({arch!r}) includes the architecture itself"
            assert len(ids) == len(set(ids)), f"neighbours({arch!r}) repeats architectures"
            for n in nbrs:
                assert n in space, f"neighbour {n!r} of {arch!r} is not a member"
            assert [n.id for n in space.neighbours(arch)] == ids, "neighbours() order is not fixed"
            if space.cardinality < 2:
                continue
            child = space.mutate(arch, np.random.default_rng(k))
            assert child in space and child != arch, f"mutate({arch!r}) gave {child!r}"
            assert space.mutate(arch, np.random.default_rng(k)) == child, "mutate() differs under the same seed"
            if nbrs:
                assert child.id in set(ids), f"mutate({arch!r}) gave {child!r}, which is not one of its neighbours"

    # -- size -----------------------------------------------------------------------------------------
    def test_cardinality(self, space: SearchSpace) -> None:
        card = space.cardinality
        assert isinstance(card, int) and not isinstance(card, bool) and card >= 1, f"cardinality is {card!r}"
        assert len({a.id for a in self._samples(space)}) <= card
        if card > self.max_enumerate:
            pytest.skip(f"{card} architectures: more than max_enumerate={self.max_enumerate} to enumerate")
        found = self.enumerate_space(space)
        assert len(found) == card, f"cardinality is {card} but sampling and neighbours found {len(found)} architectures"

    # -- pickling and display ------------------------------------------------------------------------------
    def test_pickle_round_trip(self, space: SearchSpace) -> None:
        archs = self._samples(space)
        for again in (pickle.loads(pickle.dumps(space)), copy.deepcopy(space)):
            assert again == space and again.space_id == space.space_id, (
                f"a pickled copy of {space!r} is another space: {again!r} ({again.space_id!r}, not {space.space_id!r})"
            )
            assert again.to_config() == space.to_config() and repr(again) == repr(space)
            assert [a.id for a in self._samples(again)] == [a.id for a in archs]
            for arch in archs[:10]:
                assert arch in again
        for arch in archs[:10]:
            back = pickle.loads(pickle.dumps(arch))
            assert back == arch and back.to_dict() == arch.to_dict() and back in space

    def test_repr(self, space: SearchSpace) -> None:
        text = repr(space)
        assert isinstance(text, str) and type(space).__name__ in text
        arch = self._samples(space, n=1)[0]
        assert arch.id in repr(arch)
        bundle = getattr(space, "_repr_mimebundle_", None)
        if bundle is not None:
            got = bundle()
            assert isinstance(got.get("text/plain"), str) and got["text/plain"]

