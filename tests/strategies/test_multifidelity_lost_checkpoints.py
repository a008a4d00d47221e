"""ASHA, successive halving and Hyperband let go at once the checkpoint of a result ranked out of its rung for good.

A finished search kept every checkpoint a promotion "might" continue after an ``extend``: ASHA all its results
below the top rung not promoted (236 files after 400 trials on the 300 architectures of ``DigitsTable``), successive
halving and Hyperband every result of the rung being filled. But a rung's result only falls in its ranking as results
arrive: in a space of ``n`` architectures ASHA's rung 0 never promotes one ranked ``n // eta`` or lower, and a
successive-halving rung continues only its best ``b_sizes_[k + 1]``. Those are let go; the decisions do not change,
and no promotion, even after an ``extend``, finds its parent's checkpoint gone (its ``epochs_run`` says so).
"""

import warnings

import pytest

import nasbook


def _search(strategy, budget, path):
    from nasbook.strategies import ASHA, Hyperband, SuccessiveHalving
    from nasbook.tasks import DigitsTable

    task = DigitsTable()
    kinds = {"asha": ASHA, "sh": SuccessiveHalving, "hyperband": Hyperband}
    return nasbook.Search(task.space, task, strategy=kinds[strategy](min_epochs=1, max_epochs=9, eta=3), budget=budget,
                          seed=0, storage=str(path), name="s")


def _files(path):
    return sorted(p.name for p in path.parent.joinpath(f"{path.name}.checkpoints", "search-1").glob("trial-*.ckpt"))


def _continued_every_promotion(search):
    epochs = {t.number: t.epochs for t in search.trials}
    scratch = [t.number for t in search.trials
               if t.parent is not None and t.attrs.get("epochs_run") != t.epochs - epochs[t.parent]]
    assert scratch == [], f"promotions that found their parent's checkpoint gone: {scratch}"


# (strategy, budget, most files left now, files left before): ASHA's 400 trials use up the table's 300 architectures
CASES = [("asha", 400, 30, 236), ("sh", 60, 3, 8), ("hyperband", 60, 1, 3)]


@pytest.mark.parametrize(("strategy", "budget", "most", "before"), CASES)
def test_a_finished_search_keeps_only_the_checkpoints_a_promotion_may_still_continue(tmp_path, strategy, budget,
                                                                                       most, before):
    path = tmp_path / "s.db"
    search = _search(strategy, budget, path)
    _run(search)
    left = _files(path)
    assert len(left) <= most < before
    assert {int(name[len("trial-"):-len(".ckpt")]) for name in left} == set(search.strategy.checkpoints_needed())
    _continued_every_promotion(search)

    # an extend (and a new process's resume) continues what was kept: no promotion trains from scratch, and the
    # decisions are those of one search run to the larger budget
    search.extend(trials=40)
    search.storage.close()
    from nasbook.tasks import DigitsTable

    resumed = nasbook.load_search("s", str(path), task=DigitsTable())
    _run(resumed)
    _continued_every_promotion(resumed)
    whole = _search(strategy, budget + 40, tmp_path / "whole.db")
    _run(whole)
    assert [(t.arch.id, t.epochs, t.parent) for t in resumed.trials] == [(t.arch.id, t.epochs, t.parent)
                                                                         for t in whole.trials]
    resumed.storage.close()
    whole.storage.close()


def _run(search):
    with warnings.catch_warnings():  # (a search may use the table's architectures up: it says so, and stops)
        warnings.filterwarnings("ignore", message=".*stopped early", category=nasbook.NasbookWarning)
        search.run(progress="none")
