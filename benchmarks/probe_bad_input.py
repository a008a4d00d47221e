"""Bad-input probe: what a new user gets back from nasbook's public API when they get it wrong.

Each probe is a few lines of user code run in its own subprocess (a pool of 2, a per-probe
timeout) and classified:

* ``clear``: a :class:`nasbook.NasbookError` whose message names the parameter or the value
  received (one of the probe's expected tokens), with no chained raw library traceback (the
  displayed ``__cause__``/``__context__`` chain holds only nasbook errors); for the CLI: exit code 2
  and a ``nasbook...: error:`` line that names it, no traceback. Probes that expect the input to be
  *handled* (a custom task returning junk fails its trial with a reason) are clear when it is.
* ``unclear``: a nasbook error whose message names none of the expected tokens.
* ``raw``: any other exception type, a raw chained traceback, or a password in a message.
* ``hang``: the probe ran past its timeout.
* ``silent``: accepted without an error where it should have been refused.

Storage and ``load_search`` probes also check that a refused call loses or alters nothing
already stored (every row of the search and trial tables, compared before and after).

Usage::

    PYTHONPATH=. python benchmarks/probe_bad_input.py [--json FILE] [--only SUBSTR] [--timeout 60]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Probe:
    id: str
    code: str  # user code; may set HANDLED = "..." (an accepted, correct outcome) or call watch(path)
    expect: tuple[str, ...]  # tokens: the message must name at least one
    handled: bool = False  # the input is accepted and must be handled (HANDLED set), not refused
    forbid: tuple[str, ...] = ()  # strings that must appear in no message (passwords)

    @property
    def kind(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def expectation(self) -> str:
        if self.handled:
            return "handled: " + ", ".join(self.expect)
        return "refused naming " + " or ".join(repr(t) for t in self.expect)


PROBES: list[Probe] = []


def probe(pid: str, code: str, *expect: str, handled: bool = False, forbid: tuple[str, ...] = ()) -> None:
    assert not any(p.id == pid for p in PROBES), pid
    PROBES.append(Probe(pid, code.strip(), tuple(expect), handled, forbid))


# ---------------------------------------------------------------------------------------------------
# Search(...)
# ---------------------------------------------------------------------------------------------------
probe("search.str-task", "Search('cora', storage=MEM)", "task", "'cora'")
probe("search.no-args", "Search()", "task")
probe("search.str-task-kw", "Search(GraphSpace(), 'cora', storage=MEM)", "task", "'cora'")
probe("search.space-is-int", "Search(3, nbg(), storage=MEM)", "space", "3")
probe("search.space-task-mismatch", "Search(CellSpace(), nbg(), storage=MEM)", "CellSpace", "space")
probe("search.task-not-task", "Search(GraphSpace(), task=object(), storage=MEM)", "task")
probe("search.task-class-not-instance", "Search(NasBenchGraph, storage=MEM)", "task", "NasBenchGraph")
probe("search.space-none-task-no-space", "Search(None, toy_custom(), storage=MEM)", "space")
probe("search.strategy-typo", "Search(nbg(), strategy='evolutoin', storage=MEM)", "evolutoin")
probe("search.strategy-int", "Search(nbg(), strategy=3, storage=MEM)", "strategy")
probe("search.strategy-none", "Search(nbg(), strategy=None, storage=MEM)", "strategy")
probe("search.strategy-bad-instance", "Search(nbg(), strategy=RegularizedEvolution(population_size=1), storage=MEM)",
      "population_size")
probe("search.budget-zero", "Search(nbg(), budget=0, storage=MEM)", "budget")
probe("search.budget-negative", "Search(nbg(), budget=-5, storage=MEM)", "budget")
probe("search.budget-str", "Search(nbg(), budget='100', storage=MEM)", "budget")
probe("search.budget-float", "Search(nbg(), budget=1.5, storage=MEM)", "budget")
probe("search.budget-bool", "Search(nbg(), budget=True, storage=MEM)", "budget")
probe("search.budget-none", "Search(nbg(), budget=None, storage=MEM)", "budget")
probe("search.budget-key-typo", "Search(nbg(), budget={'trails': 10}, storage=MEM)", "trails")
probe("search.budget-empty-dict", "Search(nbg(), budget={}, storage=MEM)", "budget")
probe("search.budget-seconds-negative", "Search(nbg(), budget={'seconds': -1}, storage=MEM)", "seconds")
probe("search.budget-seconds-nan", "Search(nbg(), budget={'seconds': float('nan')}, storage=MEM)", "seconds")
probe("search.budget-epochs-on-table", "Search(nbg(), budget={'epochs': 5}, storage=MEM)", "epochs")
probe("search.budget-dict-int-keys", "Search(nbg(), budget={1: 2}, storage=MEM)", "budget", "1")
probe("search.seed-negative", "Search(nbg(), seed=-1, storage=MEM)", "seed")
probe("search.seed-float", "Search(nbg(), seed=1.5, storage=MEM)", "seed")
probe("search.seed-str", "Search(nbg(), seed='0', storage=MEM)", "seed")
probe("search.seed-bool", "Search(nbg(), seed=True, storage=MEM)", "seed")
probe("search.seed-huge", "p = stored(); s = Search(nbg(), seed=2**70, budget=2, storage=p, name='h').run(progress='none');"
      " HANDLED = 'seed kept' if load_search('h', p).seed == 2**70 else None", "seed kept", handled=True)
probe("search.name-empty", "Search(nbg(), name='', storage=MEM)", "name")
probe("search.name-blank", "Search(nbg(), name='   ', storage=MEM)", "name")
probe("search.name-int", "Search(nbg(), name=3, storage=MEM)", "name")
probe("search.name-too-long", "Search(nbg(), name='x' * 300, storage=MEM)", "name")
probe("search.name-duplicate", "p = stored(); watch(p); Search(nbg(), name='s', storage=p)", "'s'", "name")
probe("search.callbacks-callable", "Search(nbg(), callbacks=print, storage=MEM)", "callbacks")
probe("search.callbacks-int-item", "Search(nbg(), callbacks=[1], storage=MEM)", "callbacks", "1")
probe("search.callbacks-str", "Search(nbg(), callbacks='print', storage=MEM)", "callbacks")
probe("search.callbacks-dict", "Search(nbg(), callbacks={'a': print}, storage=MEM)", "callbacks")
probe("search.callbacks-wrong-arity", "Search(nbg(), budget=2, callbacks=[lambda: None], storage=MEM)",
      "callbacks", "lambda")
probe("search.callbacks-one-arg", "Search(nbg(), budget=2, callbacks=[lambda search: None], storage=MEM)",
      "callbacks", "lambda")
probe("search.executor-typo", "Search(nbg(), executor='daks', storage=MEM)", "daks")
probe("search.executor-int", "Search(nbg(), executor=3, storage=MEM)", "executor", "3")
probe("search.executor-bad-address", "Search(nbg(), executor='tcp://host:notaport', storage=MEM)", "notaport", "executor")
probe("search.timeout-zero", "Search(nbg(), trial_timeout_s=0, storage=MEM)", "trial_timeout_s")
probe("search.timeout-str", "Search(nbg(), trial_timeout_s='10', storage=MEM)", "trial_timeout_s")
probe("search.timeout-nan", "Search(nbg(), trial_timeout_s=float('nan'), storage=MEM)", "trial_timeout_s")
probe("search.unknown-kwarg", "Search(nbg(), budgett=10, storage=MEM)", "budgett")
probe("search.too-many-positional", "Search(GraphSpace(), nbg(), 'evolution', storage=MEM)", "strategy", "evolution")
probe("search.storage-none", "Search(nbg(), storage=None)", "storage")
probe("search.storage-int", "Search(nbg(), storage=3)", "storage", "3")
probe("search.storage-empty", "Search(nbg(), storage='')", "storage")
probe("search.storage-list", "Search(nbg(), storage=['a.db'])", "storage")
probe("search.run-progress-typo", "Search(nbg(), budget=2, storage=MEM).run(progress='fancy')", "progress", "fancy")
probe("search.run-progress-int", "Search(nbg(), budget=2, storage=MEM).run(progress=3)", "progress", "3")
probe("search.run-positional", "Search(nbg(), budget=2, storage=MEM).run('none')", "progress", "'none'")
probe("search.run-unknown-kwarg", "Search(nbg(), budget=2, storage=MEM).run(progres='none')", "progres")
probe("search.start-progress-typo", "Search(nbg(), budget=2, storage=MEM).start(progress='fancy')", "progress", "fancy")
probe("search.wait-timeout-str", "s = Search(nbg(), budget=2, storage=MEM).start(progress='none'); s.wait(timeout_s='x')",
      "timeout_s")
probe("search.extend-zero", "ran().extend(0)", "trials")
probe("search.extend-negative", "ran().extend(-1)", "trials")
probe("search.extend-str", "ran().extend('5')", "trials")
probe("search.extend-nothing", "ran().extend()", "trials", "budget")
probe("search.extend-epochs-on-table", "ran().extend(epochs=5)", "epochs")
probe("search.extend-seconds-nan", "ran().extend(seconds=float('nan'))", "seconds")
probe("search.extend-stored-unchanged",
      "p = stored(); watch(p); s = load_search('s', p); s.extend(trials=-3)", "trials")

# ---------------------------------------------------------------------------------------------------
# Budget
# ---------------------------------------------------------------------------------------------------
probe("budget.empty", "Budget()", "trials", "epochs", "seconds")
probe("budget.trials-zero", "Budget(trials=0)", "trials")
probe("budget.trials-float", "Budget(trials=1.5)", "trials")
probe("budget.trials-str", "Budget(trials='10')", "trials")
probe("budget.epochs-negative", "Budget(epochs=-1)", "epochs")
probe("budget.seconds-str", "Budget(seconds='60')", "seconds")
probe("budget.seconds-bool", "Budget(seconds=True)", "seconds")
probe("budget.coerce-str", "Budget.coerce('10')", "budget", "'10'")
probe("budget.unknown-kwarg", "Budget(trails=10)", "trails")

# ---------------------------------------------------------------------------------------------------
# load_search
# ---------------------------------------------------------------------------------------------------
probe("load.unknown-name", "p = stored(); watch(p); load_search('nope', p)", "'nope'")
probe("load.unknown-name-close", "p = stored(); watch(p); load_search('S', p)", "'S'")
probe("load.mistyped-path", "p = stored(); watch(p); load_search('s', p + 'x')", "runs.dbx")
probe("load.missing-folder", "load_search('s', '/no/such/folder/runs.db')", "/no/such/folder")
probe("load.name-int", "p = stored(); watch(p); load_search(3, p)", "name")
probe("load.name-none", "p = stored(); watch(p); load_search(None, p)", "name")
probe("load.storage-int", "load_search('s', 3)", "storage")
probe("load.storage-dir", "load_search('s', TMP)", "directory", "storage")
probe("load.other-task", "p = stored(); watch(p); load_search('s', p, task=NasBenchGraph('citeseer'))", "task", "citeseer")
probe("load.other-space", "p = stored(); watch(p); load_search('s', p, space=CellSpace())", "space")
probe("load.task-str", "p = stored(); watch(p); load_search('s', p, task='cora')", "task")
probe("load.budget-below-done", "p = stored(5); watch(p); load_search('s', p, budget=2)", "budget")
probe("load.budget-zero", "p = stored(); watch(p); load_search('s', p, budget=0)", "budget")
probe("load.budget-str", "p = stored(); watch(p); load_search('s', p, budget='10')", "budget")
probe("load.budget-epochs-on-table", "p = stored(); watch(p); load_search('s', p, budget={'epochs': 3})", "epochs")
probe("load.strategy-str", "p = stored(); watch(p); load_search('s', p, strategy='evolution')", "strategy")
probe("load.strategy-bad", "p = stored(); watch(p); load_search('s', p, strategy=RegularizedEvolution(sample_size=0))",
      "sample_size")
probe("load.allow-changes-str", "p = stored(); watch(p); load_search('s', p, allow_changes='yes')", "allow_changes")
probe("load.callbacks-int", "p = stored(); watch(p); load_search('s', p, callbacks=[1])", "callbacks")
probe("load.executor-typo", "p = stored(); watch(p); load_search('s', p, executor='daks')", "daks")
probe("load.timeout-negative", "p = stored(); watch(p); load_search('s', p, trial_timeout_s=-1)", "trial_timeout_s")
probe("load.unknown-kwarg", "p = stored(); watch(p); load_search('s', p, budgett=10)", "budgett")
probe("load.non-sqlite-file", "p = textfile(); load_search('s', p)", "SQLite", "not.db")
probe("load.foreign-sqlite", "p = foreign_db(); load_search('s', p)", "foreign.db", "nasbook")
probe("load.locked-by-live-run",
      "p = stored(); a = load_search('s', p, budget=50); a.storage.acquire_lease(a._search_id, 'other-owner'); watch(p);"
      " load_search('s', p).run(progress='none')", "'s'")

# ---------------------------------------------------------------------------------------------------
# crafted stores (damaged or hand-edited files)
# ---------------------------------------------------------------------------------------------------
probe("store.deep-json-metrics", "p = stored(); craft(p, \"UPDATE nasbook_trials SET metrics = ? WHERE number = 0\", "
      "'{\"a\":' * 100000 + '1' + '}' * 100000); watch(p); load_search('s', p)", "trial 0", "metrics")
probe("store.deep-json-config", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = ?\", "
      "'[' * 100000 + ']' * 100000); watch(p); load_search('s', p)", "configuration", "'s'")
probe("store.config-list", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = '[]'\"); watch(p); "
      "load_search('s', p)", "configuration")
probe("store.config-budget-str", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.budget', 'ten')\"); watch(p); load_search('s', p)", "budget")
probe("store.config-seed-str", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.seed', 'x')\"); watch(p); load_search('s', p)", "seed")
probe("store.config-budget-negative", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.budget', json('{\\\"trials\\\": -4}'))\"); watch(p); load_search('s', p)", "budget", "-4")
probe("store.config-strategy-unknown", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.strategy.alias', 'nope', '$.strategy.class', 'Nope')\"); watch(p); load_search('s', p)",
      "nope", "Nope", "strategy")
probe("store.config-strategy-params", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.strategy.params', json('{\\\"bogus\\\": 1}'))\"); watch(p); load_search('s', p)",
      "bogus", "strategy")
probe("store.config-space-params", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.space.params', json('{\\\"bogus\\\": 1}'))\"); watch(p); load_search('s', p)",
      "bogus", "space")
probe("store.config-task-params", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.task.params', json('{\\\"dataset\\\": \\\"nope\\\"}'))\"); watch(p); load_search('s', p)",
      "nope", "task")
probe("store.config-task-params-list", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = "
      "json_set(config, '$.task.params', json('[1, 2]'))\"); watch(p); load_search('s', p)",
      "task", "params", "configuration")
probe("store.config-not-json", "p = stored(); craft(p, \"UPDATE nasbook_searches SET config = '{not json'\"); "
      "watch(p); load_search('s', p)", "configuration", "'s'")
probe("store.trial-state-bogus", "p = stored(); craft(p, \"UPDATE nasbook_trials SET state = 'weird' WHERE number = 1\"); "
      "watch(p); load_search('s', p)", "trial 1", "weird")
probe("store.trial-value-text", "p = stored(); craft(p, \"UPDATE nasbook_trials SET value = 'abc' WHERE number = 1\"); "
      "watch(p); load_search('s', p)", "trial 1", "value")
probe("store.trial-arch-foreign", "p = stored(); craft(p, \"UPDATE nasbook_trials SET arch = ? WHERE number = 0\", "
      "json.dumps({'edges': ['none'] * 6})); watch(p); load_search('s', p)", "trial 0", "arch")
probe("store.trial-arch-not-json", "p = stored(); craft(p, \"UPDATE nasbook_trials SET arch = '{' WHERE number = 0\"); "
      "watch(p); load_search('s', p)", "trial 0", "arch")
probe("store.schema-newer", "p = stored(); craft(p, \"UPDATE nasbook_meta SET value = '999' WHERE key = 'schema_version'\"); "
      "watch(p); load_search('s', p)", "999", "schema", "newer")
probe("store.truncated-file", "p = stored(); [os.remove(p + x) for x in ('-wal', '-shm') if os.path.exists(p + x)]; "
      "data = open(p, 'rb').read(); open(p, 'wb').write(data[:200]); "
      "load_search('s', p)", "runs.db")
probe("store.dir-url", "Search(nbg(), storage='sqlite:///' + TMP)", "directory", "storage")
probe("store.non-sqlite-file", "p = textfile(); Search(nbg(), storage=p)", "SQLite", "not.db")
probe("store.non-sqlite-unchanged", "p = textfile(); before = open(p, 'rb').read(); "
      "exec('try:\\n Search(nbg(), storage=p)\\nexcept Exception as e:\\n err = e'); "
      "assert open(p, 'rb').read() == before, 'file changed'; raise err", "SQLite", "not.db")
probe("store.foreign-sqlite", "p = foreign_db(); Search(nbg(), storage=p)", "foreign.db", "nasbook")
probe("store.missing-folder", "Search(nbg(), storage='/no/such/folder/x.db')", "/no/such/folder")
probe("store.missing-folder-url", "Search(nbg(), storage='sqlite:////no/such/folder/x.db')", "/no/such/folder")
probe("store.postgres-no-driver", "Search(nbg(), storage='postgresql://u@localhost/db')", "psycopg", "driver")
probe("store.mysql-no-driver", "Search(nbg(), storage='mysql://u@localhost/db')", "mysql", "driver")
probe("store.password-postgres", "Search(nbg(), storage='postgresql://alice:s3cr3tPW@localhost:5432/db')",
      "driver", "psycopg", forbid=("s3cr3tPW",))
probe("store.password-pymysql", "Search(nbg(), storage='mysql+pymysql://alice:s3cr3tPW@127.0.0.1:1/db')",
      "pymysql", "driver", forbid=("s3cr3tPW",))
probe("store.password-bad-port", "Search(nbg(), storage='postgresql://alice:s3cr3tPW@host:notaport/db')",
      "storage", "URL", forbid=("s3cr3tPW",))
probe("store.password-load", "load_search('s', 'postgresql+psycopg2://alice:s3cr3tPW@localhost/db')",
      "psycopg2", "driver", forbid=("s3cr3tPW",))
probe("store.unknown-scheme", "Search(nbg(), storage='bogus://x/y')", "bogus", "storage")
probe("store.scheme-typo", "Search(nbg(), storage='sqllite:///x.db')", "sqllite", "storage")
probe("store.open-storage-int", "open_storage(3)", "storage", "3")
probe("store.storage-class-create-false", "Storage(TMP + '/none.db', create=False)", "none.db")
probe("store.add-trial-unknown-search", "st = open_storage(MEM); st.load_trials(99, GraphSpace())", "99", "search")
probe("store.get-search-int", "st = open_storage(MEM); st.get_search(3)", "3", "name")

# ---------------------------------------------------------------------------------------------------
# strategies
# ---------------------------------------------------------------------------------------------------
probe("strategy.get-unknown", "get_strategy('evolutoin')", "evolutoin")
probe("strategy.get-int", "get_strategy(3)", "strategy", "3")
probe("strategy.get-unknown-param", "get_strategy('evolution', pop_size=3)", "pop_size")
probe("strategy.class-unknown", "strategy_class('nope')", "nope")
probe("strategy.random-seed", "use(RandomSearch(seed=-1))", "seed")
probe("strategy.random-dups", "use(RandomSearch(allow_duplicates='no'))", "allow_duplicates")
probe("strategy.evo-pop-zero", "use(RegularizedEvolution(population_size=0))", "population_size")
probe("strategy.evo-pop-str", "use(RegularizedEvolution(population_size='30'))", "population_size")
probe("strategy.evo-sample-gt-pop", "use(RegularizedEvolution(population_size=5, sample_size=9))", "sample_size")
probe("strategy.evo-seed-float", "use(RegularizedEvolution(seed=0.5))", "seed")
probe("strategy.local-improvement", "use(LocalSearch(improvement='greedy'))", "greedy", "improvement")
probe("strategy.local-n-initial", "use(LocalSearch(n_initial=0))", "n_initial")
probe("strategy.asha-eta", "use(ASHA(eta=1), toy=True)", "eta")
probe("strategy.asha-min-gt-max", "use(ASHA(min_epochs=9, max_epochs=3), toy=True)", "max_epochs", "min_epochs")
probe("strategy.asha-base-typo", "use(ASHA(base='evolutoin'), toy=True)", "evolutoin")
probe("strategy.asha-base-int", "use(ASHA(base=3), toy=True)", "base")
probe("strategy.sh-n-initial", "use(SuccessiveHalving(n_initial=0), toy=True)", "n_initial")
probe("strategy.hyperband-eta-str", "use(Hyperband(eta='3'), toy=True)", "eta")
probe("strategy.median-min-trials", "use(MedianStopping(min_trials=0), toy=True)", "min_trials")
probe("strategy.median-base-self", "use(MedianStopping(base=MedianStopping()), toy=True)", "base")
probe("strategy.asha-on-table", "Search(nbg(), strategy='asha', budget=5, storage=MEM).run(progress='none')",
      "epochs", "ASHA")
probe("strategy.unknown-ctor-kwarg", "RegularizedEvolution(pop_size=3)", "pop_size")
probe("strategy.setup-not-space", "RandomSearch().setup('cora')", "space", "'cora'")
probe("strategy.setup-seed", "RandomSearch().setup(GraphSpace(), seed='0')", "seed")
probe("strategy.setup-mode", "RandomSearch().setup(GraphSpace(), mode='maximize')", "mode", "maximize")

# ---------------------------------------------------------------------------------------------------
# spaces
# ---------------------------------------------------------------------------------------------------
probe("space.cell-n-nodes-1", "CellSpace(n_nodes=1)", "n_nodes")
probe("space.cell-n-nodes-big", "CellSpace(n_nodes=9)", "n_nodes")
probe("space.cell-n-nodes-str", "CellSpace(n_nodes='4')", "n_nodes")
probe("space.cell-ops-unknown", "CellSpace(ops=['conv'])", "conv")
probe("space.cell-ops-str", "CellSpace(ops='nor_conv_3x3')", "ops")
probe("space.cell-ops-empty", "CellSpace(ops=[])", "ops")
probe("space.cell-ops-none-only", "CellSpace(ops=['none'])", "ops")
probe("space.cell-channels-zero", "CellSpace(channels=0)", "channels")
probe("space.cell-stages-gt-cells", "CellSpace(n_cells=2, n_stages=5)", "n_stages")
probe("space.chain-kind", "ChainSpace(kind='rnn')", "rnn")
probe("space.chain-depth-zero", "ChainSpace(min_depth=0)", "min_depth")
probe("space.chain-max-lt-min", "ChainSpace(min_depth=3, max_depth=2)", "max_depth")
probe("space.chain-widths-zero", "ChainSpace(widths=[0])", "widths")
probe("space.chain-widths-str", "ChainSpace(widths='16')", "widths")
probe("space.chain-widths-dup", "ChainSpace(widths=[16, 16])", "widths")
probe("space.chain-mlp-op-for-cnn", "ChainSpace(ops=['relu'])", "relu")
probe("space.graph-ops-unknown", "GraphSpace(ops=['gcn', 'nope'])", "nope")
probe("space.graph-ops-empty", "GraphSpace(ops=[])", "ops")
probe("space.subset-not-space", "SubsetSpace(3, [])", "space", "3")
probe("space.subset-empty", "SubsetSpace(GraphSpace(), [])", "archs")
probe("space.subset-foreign", "SubsetSpace(GraphSpace(), [cell_arch()])", "archs", "cell")
probe("space.subset-str-items", "SubsetSpace(GraphSpace(), ['abc'])", "archs", "'abc'")
probe("space.cell-make-disconnected", "CellSpace().make(edges=['none'] * 6)", "edges", "path")
probe("space.cell-make-short", "CellSpace().make(edges=['none'] * 5)", "edges", "6")
probe("space.cell-make-str", "CellSpace().make(edges='nor_conv_3x3')", "edges")
probe("space.cell-make-typo-key", "CellSpace().make(edgez=['nor_conv_3x3'] * 6)", "edgez")
probe("space.cell-make-empty", "CellSpace().make()", "edges")
probe("space.cell-make-int-ops", "CellSpace().make(edges=[1] * 6)", "edges", "1")
probe("space.cell-make-unhashable", "CellSpace().make(edges=[[1]] * 6)", "edges", "[1]")
probe("space.chain-make-width", "ChainSpace().make(layers=[['conv3x3', 17]])", "17", "width")
probe("space.chain-make-empty", "ChainSpace().make(layers=[])", "layers", "depth")
probe("space.chain-make-str", "ChainSpace().make(layers='conv3x3')", "layers")
probe("space.chain-make-short-layer", "ChainSpace().make(layers=[['conv3x3']])", "layers", "conv3x3")
probe("space.chain-make-dict-layer", "ChainSpace().make(layers=[{'op': 'conv3x3', 'width': 16}])", "layers")
probe("space.graph-make-link", "GraphSpace().make(link=[9, 9, 9, 9], ops=['gcn'] * 4)", "link")
probe("space.graph-make-none", "GraphSpace().make()", "link")
probe("space.graph-make-op", "GraphSpace().make(link=[0, 0, 1, 2], ops=['nope'] * 4)", "nope")
probe("space.graph-make-extra", "GraphSpace().make(link=[0, 0, 1, 2], ops=['gcn'] * 4, depth=3)", "depth")
probe("space.graph-make-link-str", "GraphSpace().make(link='0012', ops=['gcn'] * 4)", "link")
probe("space.from-dict-int", "CellSpace().from_dict(3)", "from_dict", "int")
probe("space.from-dict-foreign", "CellSpace().from_dict(chain_arch().to_dict())", "layers")
probe("space.validate-str", "CellSpace().validate('abc')", "'abc'")
probe("space.validate-foreign", "CellSpace().validate(chain_arch())", "chain")
probe("space.encode-kind", "s = CellSpace(); s.encode(s.sample(np.random.default_rng(0)), kind='onehot')", "onehot")
probe("space.encode-foreign", "CellSpace().encode(chain_arch())", "chain")
probe("space.encode-many-str", "CellSpace().encode_many(['x'])", "'x'")
probe("space.mutate-int-rng", "s = CellSpace(); s.mutate(s.sample(np.random.default_rng(0)), 0)", "rng", "0")
probe("space.mutate-str-arch", "CellSpace().mutate('x', np.random.default_rng(0))", "'x'")
probe("space.sample-int-rng", "CellSpace().sample(0)", "rng", "0")
probe("space.sample-none-rng", "ChainSpace().sample(None)", "rng", "None")
probe("space.neighbours-foreign", "CellSpace().neighbours(chain_arch())", "chain")
probe("space.neighbours-str", "GraphSpace().neighbours('x')", "'x'")
probe("space.build-flat-input", "s = CellSpace(); s.build(s.sample(np.random.default_rng(0)), input_shape=(3,), n_classes=10)",
      "input_shape")
probe("space.build-n-classes-zero", "s = ChainSpace(kind='mlp'); s.build(s.sample(np.random.default_rng(0)), (30,), n_classes=0)",
      "n_classes")
probe("space.build-shape-str", "s = ChainSpace(kind='mlp'); s.build(s.sample(np.random.default_rng(0)), 'abc', 10)",
      "input_shape")
probe("space.build-tabular", "s = GraphSpace(); s.build(s.sample(np.random.default_rng(0)), (3,), 2)", "GraphSpace", "build")
probe("space.build-foreign", "ChainSpace(kind='mlp').build(cell_arch(), (30,), 2)", "cell")
probe("space.from-config-unknown", "SearchSpace.from_config({'class': 'Nope', 'params': {}})", "Nope")
probe("space.from-config-int", "SearchSpace.from_config(3)", "config", "3")
probe("space.ctor-typo", "CellSpace(n_node=5)", "n_node")
probe("space.from-config-bad-param", "SearchSpace.from_config({'class': 'CellSpace', 'params': {'bogus': 1}})", "bogus")
probe("space.from-string-bad", "CellSpace().from_string('|nope~0|')", "nope")
probe("space.from-string-int", "CellSpace().from_string(3)", "from_string", "3")

# ---------------------------------------------------------------------------------------------------
# tasks
# ---------------------------------------------------------------------------------------------------
probe("task.nbg-typo", "NasBenchGraph('coraa')", "coraa")
probe("task.nbg-int", "NasBenchGraph(3)", "dataset", "3")
probe("task.nbg-none", "NasBenchGraph(None)", "dataset", "None")
probe("task.digits-epochs-zero", "Search(CellSpace(), Digits(max_epochs=0), storage=MEM)", "max_epochs")
probe("task.digits-lr-negative", "Search(CellSpace(), Digits(lr=-1), storage=MEM)", "lr")
probe("task.digits-optimizer", "Search(CellSpace(), Digits(optimizer='adamw!'), storage=MEM)", "adamw!", "optimizer")
probe("task.digits-batch-size-zero", "Search(CellSpace(), Digits(batch_size=0), storage=MEM)", "batch_size")
probe("task.digits-batch-size-str", "Search(CellSpace(), Digits(batch_size='64'), storage=MEM)", "batch_size")
probe("task.digits-split-seed", "Search(CellSpace(), Digits(split_seed=-1), storage=MEM)", "split_seed")
probe("task.digits-mode", "Search(CellSpace(), Digits(mode='maximize'), storage=MEM)", "mode", "maximize")
probe("task.digits-health", "Search(CellSpace(), Digits(health='yes'), storage=MEM)", "health")
probe("task.digits-threads", "Search(CellSpace(), Digits(num_threads=0), storage=MEM)", "num_threads")
probe("task.digits-accelerator", "Search(CellSpace(), Digits(accelerator='tpu!'), storage=MEM)", "accelerator", "tpu!")
probe("task.digits-on-graph-space", "Search(GraphSpace(), Digits(), storage=MEM)", "GraphSpace", "build", "space")
probe("task.table-seed", "Search(DigitsTable(seed=99), storage=MEM)", "seed", "99")
probe("task.table-seed-str", "Search(DigitsTable(seed='first'), storage=MEM)", "seed", "first")
probe("task.table-path-int", "DigitsTable(path=3)", "path")
probe("task.table-path-missing", "Search(DigitsTable(path='/no/such/prefix'), storage=MEM)", "/no/such/prefix")
probe("task.training-int-dm", "Search(CellSpace(), TrainingTask(3), storage=MEM)", "datamodule")
probe("task.training-dm-class", "import lightning.pytorch as pl; Search(CellSpace(), TrainingTask(pl.LightningDataModule), storage=MEM)",
      "datamodule", "class")
probe("task.training-str-dm", "Search(CellSpace(), TrainingTask('mnist'), storage=MEM)", "datamodule", "mnist")
probe("task.training-input-shape", "Search(CellSpace(), TrainingTask(dm(), input_shape=(0,)), storage=MEM)", "input_shape")
probe("task.training-n-classes", "Search(CellSpace(), TrainingTask(dm(), n_classes=1), storage=MEM)", "n_classes")
probe("task.training-metric-empty", "Search(CellSpace(), TrainingTask(dm(), metric=''), storage=MEM)", "metric")
probe("task.custom-returns-none", "handled_custom(lambda: None)", "FAILED", "returned None", handled=True)
probe("task.custom-returns-str", "handled_custom(lambda: '0.5')", "FAILED", "str", handled=True)
probe("task.custom-raises", "handled_custom(lambda: 1 / 0)", "FAILED", "ZeroDivisionError", handled=True)
probe("task.custom-value-str", "handled_custom(lambda: Result('x'))", "FAILED", "value", handled=True)
probe("task.custom-value-nan", "handled_custom(lambda: Result(float('nan')), state='diverged')", "DIVERGED", "nan",
      handled=True)
probe("task.custom-metrics-not-json",
      "Search(GraphSpace(), custom(lambda: Result(0.5, metrics={'a': object()})), budget=2, storage=MEM).run(progress='none')",
      "metrics")
probe("task.custom-mode", "t = custom(lambda: Result(0.5)); t.mode = 'maximize'; Search(GraphSpace(), t, storage=MEM)",
      "mode", "maximize")
probe("task.custom-metric-int", "t = custom(lambda: Result(0.5)); t.metric = 3; Search(GraphSpace(), t, storage=MEM)",
      "metric", "3")
probe("task.custom-no-evaluate", "class T(Task): pass\nT()", "evaluate")

# ---------------------------------------------------------------------------------------------------
# executors
# ---------------------------------------------------------------------------------------------------
probe("executor.dask-bad-port", "DaskExecutor('tcp://host:notaport')", "notaport")
probe("executor.dask-n-workers-zero", "DaskExecutor(n_workers=0)", "n_workers")
probe("executor.dask-n-workers-str", "DaskExecutor(n_workers='2')", "n_workers")
probe("executor.dask-client-int", "DaskExecutor(3)", "client", "3")
probe("executor.dask-torch-threads", "DaskExecutor(torch_threads=-1)", "torch_threads")
probe("executor.dask-connect-timeout", "DaskExecutor(connect_timeout_s=-1)", "connect_timeout_s")
probe("executor.dask-allowed-failures", "DaskExecutor(allowed_failures=-1)", "allowed_failures")
probe("executor.dask-security", "DaskExecutor(security='tls')", "security")
probe("executor.resolve-int", "resolve_executor(3)", "executor", "3")
probe("executor.resolve-typo", "resolve_executor('daks')", "daks")
probe("executor.resolve-empty-address", "resolve_executor('tcp://')", "tcp://", "executor")
probe("executor.dask-unreachable",
      "Search(nbg(), budget=2, executor=DaskExecutor('tcp://127.0.0.1:1', connect_timeout_s=2), storage=MEM).run(progress='none')",
      "127.0.0.1:1")

# ---------------------------------------------------------------------------------------------------
# options, viz, CLI, testing helpers
# ---------------------------------------------------------------------------------------------------
probe("options.style", "nasbook.set_options(display_style='fancy')", "fancy", "display_style")
probe("options.rows-zero", "nasbook.set_options(display_max_rows=0)", "display_max_rows")
probe("options.rows-str", "nasbook.set_options(display_max_rows='5')", "display_max_rows")
probe("options.unknown", "nasbook.set_options(display_stlye='text')", "display_stlye")
probe("options.positional", "nasbook.set_options('text')", "set_options", "'text'")
probe("viz.history-int", "viz.history_info(3)", "search", "3")
probe("viz.history-none", "viz.history_info()", "search")
probe("viz.history-x", "viz.history_info(ran(), x='epochz')", "epochz")
probe("viz.curves-no-curves", "viz._curves_info(ran())", "curves")
probe("viz.curves-top-k", "viz._curves_info(ran(), top_k=0)", "top_k")
probe("viz.curves-metric", "s = Search(GraphSpace(), ToyTask(GraphSpace(), epochs=2), budget=2, storage=MEM)"
      ".run(progress='none'); viz._curves_info(s, metric='nope')", "nope")
probe("viz.tradeoff-x", "viz.tradeoff_info(ran(), x='nope')", "nope")
probe("viz.op-frequency-top", "viz.op_frequency_info(ran(), top=1.5)", "top")
probe("viz.op-frequency-negative", "viz.op_frequency_info(ran(), top=-1)", "top")
probe("viz.plot-history-str", "viz.plot_history('s')", "search", "'s'")
probe("viz.save-missing-folder", "viz.save(viz.plot_history(ran()), '/no/such/folder/x.html')", "/no/such/folder")
probe("viz.save-not-plot", "viz.save(3, TMP + '/x.html')", "3", "obj")
probe("cli.no-command", "cli()", "command")
probe("cli.unknown-command", "cli('frobnicate')", "frobnicate")
probe("cli.budget-str", "cli('search', '--budget', 'x', '--storage', TMP + '/c.db')", "--budget", "'x'")
probe("cli.budget-zero", "cli('search', '--budget', '0', '--storage', TMP + '/c.db', '--quiet')", "budget")
probe("cli.seed-negative", "cli('search', '--seed', '-1', '--budget', '2', '--storage', TMP + '/c.db', '--quiet')", "seed")
probe("cli.dataset-typo", "cli('search', '--dataset', 'coraa', '--storage', TMP + '/c.db', '--quiet')", "coraa")
probe("cli.strategy-typo", "cli('search', '--strategy', 'evolutoin', '--storage', TMP + '/c.db', '--quiet')", "evolutoin")
probe("cli.resume-unknown", "p = stored(); watch(p); cli('search', '--resume', 'nope', '--storage', p, '--quiet')", "nope")
probe("cli.show-unknown", "p = stored(); watch(p); cli('show', 'nope', '--storage', p)", "nope")
probe("cli.show-missing-file", "cli('show', '--storage', '/no/such/runs.db')", "/no/such/runs.db")
probe("cli.list-dir", "cli('list', '--storage', TMP)", "directory", "storage")
probe("cli.list-password", "cli('list', '--storage', 'postgresql://alice:s3cr3tPW@localhost/db')", "driver",
      forbid=("s3cr3tPW",))
probe("cli.report-missing", "cli('report', '/no/such/nb.ipynb')", "/no/such/nb.ipynb")
probe("cli.report-param-arity", "cli('report', 'x.ipynb', '-p', 'only_name')", "-p", "--parameter")
probe("cli.report-not-notebook", "p = textfile(); cli('report', p)", "not.db", "notebook")
probe("testing.toy-not-space", "ToyTask(3)", "space", "3")
probe("testing.toy-epochs-negative", "Search(GraphSpace(), ToyTask(GraphSpace(), epochs=-1), storage=MEM)", "epochs")
probe("testing.architectures-not-space", "nasbook.testing.architectures(3)", "space", "3")


# ---------------------------------------------------------------------------------------------------
# the child: run one probe and classify what happened
# ---------------------------------------------------------------------------------------------------
PRELUDE = r'''
import json, os, sqlite3, sys, tempfile, io, contextlib
import numpy as np
import nasbook
from nasbook import Budget, NasbookError, Search, load_search
from nasbook import viz
from nasbook.executors import DaskExecutor, resolve_executor
from nasbook.space import CellSpace, ChainSpace, GraphSpace, SearchSpace, SubsetSpace
from nasbook.storage import Storage, open_storage
from nasbook.strategies import (ASHA, Hyperband, LocalSearch, MedianStopping, RandomSearch, RegularizedEvolution,
                                SuccessiveHalving, get_strategy, strategy_class)
from nasbook.tasks import Digits, DigitsTable, NasBenchGraph, Result, Task, TrainingTask
from nasbook.testing import ToyTask

TMP = tempfile.mkdtemp(prefix="nasbook-probe-")
MEM = ":memory:"
_WATCH = []
HANDLED = None

def nbg():
    return NasBenchGraph("cora")

def stored(n=3, name="s"):
    path = os.path.join(TMP, "runs.db")
    Search(nbg(), budget=n, seed=0, storage=path, name=name).run(progress="none")
    return path

def ran():
    return Search(nbg(), budget=4, seed=0, storage=MEM).run(progress="none")

def _dump(path):
    con = sqlite3.connect(path)
    try:
        return [sorted(map(repr, con.execute(f"SELECT * FROM {t}").fetchall())) for t in ("nasbook_searches", "nasbook_trials")]
    finally:
        con.close()

def watch(path):
    _WATCH.append((path, _dump(path)))

def craft(path, sql, *args):
    con = sqlite3.connect(path)
    con.execute(sql, args)
    con.commit()
    con.close()

def textfile():
    path = os.path.join(TMP, "not.db")
    with open(path, "w") as fh:
        fh.write("these are my notes, not a database\n")
    return path

def foreign_db():
    path = os.path.join(TMP, "foreign.db")
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers (name) VALUES ('ada')")
    con.commit()
    con.close()
    return path

def cell_arch():
    return CellSpace().sample(np.random.default_rng(0))

def chain_arch():
    return ChainSpace().sample(np.random.default_rng(0))

class _Custom(Task):
    metric = "score"
    def __init__(self, fn):
        self.fn = fn
    def get_params(self):
        return {}
    def evaluate(self, arch, *, space=None, fidelity=None, report=None):
        return self.fn()

def custom(fn):
    return _Custom(fn)

def toy_custom():
    return custom(lambda: Result(0.5))

def handled_custom(fn, state="failed"):
    global HANDLED
    s = Search(GraphSpace(), custom(fn), budget=2, storage=MEM).run(progress="none")
    states = {t.state.value for t in s.trials}
    reasons = [t.reason or "" for t in s.trials]
    if states == {state} and all(reasons):
        HANDLED = f"{state.upper()}: {reasons[0]}"

def use(strategy, toy=False):
    task = ToyTask(GraphSpace(), epochs=3) if toy else nbg()
    return Search(GraphSpace(), task, strategy=strategy, budget=3, storage=MEM).run(progress="none")

def dm():
    from nasbook.training import DigitsDataModule
    return DigitsDataModule()

class _Cli(Exception):
    pass

def cli(*argv):
    from nasbook.cli import main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            rc = main(list(argv))
        except SystemExit as exc:
            rc = exc.code
    raise _Cli(rc, err.getvalue())
'''


def _displayed_chain(exc: BaseException) -> list[BaseException]:
    """The exceptions a traceback would print above ``exc`` ("The above exception was ...")."""
    chain, seen = [], {id(exc)}
    cur: BaseException | None = exc
    while cur is not None:
        nxt = cur.__cause__ if cur.__cause__ is not None else (None if cur.__suppress_context__ else cur.__context__)
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        chain.append(nxt)
        cur = nxt
    return chain


def run_child(pid: str) -> dict[str, Any]:
    import traceback

    p = next(p for p in PROBES if p.id == pid)
    ns: dict[str, Any] = {}
    exec(compile(PRELUDE, "<prelude>", "exec"), ns)
    result: dict[str, Any] = {"id": p.id, "kind": p.kind, "expect": p.expectation}
    err: BaseException | None = None
    try:
        exec(compile(p.code, f"<probe {p.id}>", "exec"), ns)
    except BaseException as exc:  # noqa: BLE001 - classifying it is the point
        err = exc
    nasbook_error = ns["NasbookError"]
    note = ""
    text = ""
    if err is not None and type(err).__name__ == "_Cli":
        rc, stderr = err.args
        text = stderr.strip()
        lines = [ln for ln in text.splitlines() if ln.strip()]
        errors = [ln for ln in lines if re.match(r"^nasbook( [\w-]+)?: error: ", ln)]
        if rc == 0:
            outcome, message = "silent", f"exit code 0; stderr: {text[-200:]}"
        elif "Traceback" in text or rc != 2 or not errors:
            outcome, message = "raw", f"exit code {rc}: {text[-300:]}"
        else:
            message = errors[-1]
            named = any(t in message for t in p.expect)
            outcome = "clear" if named else "unclear"
            if len(errors) != 1:
                note = f"{len(errors)} error lines"
        result.update(outcome=outcome, type=f"exit {rc}", message=message)
    elif err is None:
        handled = ns.get("HANDLED")
        if p.handled and handled:
            named = any(t in handled for t in p.expect)
            result.update(outcome="clear" if named else "unclear", type="handled", message=handled)
        else:
            result.update(outcome="silent", type="-", message="accepted" + (f" ({handled})" if handled else ""))
    else:
        message = str(err)
        text = "".join(traceback.format_exception(err))
        chain = _displayed_chain(err)
        raw_links = [type(c).__name__ for c in chain if not isinstance(c, nasbook_error)]
        if isinstance(err, nasbook_error) and not raw_links and not isinstance(err, RecursionError):
            named = any(t in message for t in p.expect)
            outcome = "clear" if named else "unclear"
        else:
            outcome = "raw"
            if raw_links and isinstance(err, nasbook_error):
                note = "chained from " + ", ".join(raw_links)
        if p.handled and outcome != "raw":
            note = (note + "; " if note else "") + "refused where it should be handled"
            outcome = "unclear"
        result.update(outcome=outcome, type=type(err).__name__, message=message)
    for secret in p.forbid:
        if secret in (result.get("message", "") + text):
            result["outcome"] = "raw"
            note = (note + "; " if note else "") + f"leaks {secret!r}"
    for path, before in ns["_WATCH"]:
        try:
            after = ns["_dump"](path)
        except Exception as exc:  # noqa: BLE001
            after = f"unreadable: {exc}"
        if after != before:
            result["outcome"] = "raw"
            note = (note + "; " if note else "") + "stored rows changed or lost"
    result["note"] = note
    return result


def _spawn(p: Probe, timeout: float) -> dict[str, Any]:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    t0 = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", p.id], capture_output=True,
                              text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"id": p.id, "kind": p.kind, "expect": p.expectation, "outcome": "hang", "type": "-",
                "message": f"no answer after {timeout:g} s", "note": "", "seconds": timeout}
    seconds = round(time.monotonic() - t0, 2)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("PROBE-RESULT "):
            out = json.loads(line[len("PROBE-RESULT "):])
            out["seconds"] = seconds
            return out
    return {"id": p.id, "kind": p.kind, "expect": p.expectation, "outcome": "raw", "type": f"exit {proc.returncode}",
            "message": (proc.stderr or proc.stdout)[-300:], "note": "the child died", "seconds": seconds}


OUTCOMES = ("clear", "unclear", "raw", "hang", "silent")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="write every probe's result (and the counts) to this file")
    ap.add_argument("--only", default=None, help="run only probes whose id contains one of these (comma-separated)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per probe (default 60)")
    ap.add_argument("--workers", type=int, default=2, help="probes run at once (default 2)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        import warnings

        warnings.simplefilter("ignore")
        print("PROBE-RESULT " + json.dumps(run_child(args.child), default=str))
        return 0
    only = args.only.split(",") if args.only else None
    probes = [p for p in PROBES if only is None or any(o in p.id for o in only)]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.workers) as pool:
        results = list(pool.map(lambda p: _spawn(p, args.timeout), probes))
    counts = {o: sum(r["outcome"] == o for r in results) for o in OUTCOMES}
    for r in results:
        msg = " ".join(str(r["message"]).split())[:100]
        note = f"  [{r['note']}]" if r.get("note") else ""
        print(f"{r['id']:<38} {r['kind']:<9} {r['outcome']:<8} {r['type']:<28} {msg}{note}")
    print()
    print(f"{len(results)} probes in {time.monotonic() - t0:.0f} s: "
          + ", ".join(f"{o} {counts[o]}" for o in OUTCOMES))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"counts": counts, "n_probes": len(results), "results": results}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
