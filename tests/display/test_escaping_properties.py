"""Property: whatever text a user or a task puts in a trial or a search, the HTML repr escapes it."""

import unicodedata
from html import unescape

import numpy as np
from display_helpers import check_safe_html
from hypothesis import given, settings
from hypothesis import strategies as st

import nasbook
from nasbook.display import repr_mimebundle
from nasbook.space import GraphSpace
from nasbook.testing import ToyTask
from nasbook.trial import Trial, TrialState

SPACE = GraphSpace(ops=("gcn", "gat", "skip"))
ARCH = SPACE.sample(np.random.default_rng(0))
#: markup-heavy text: tags, quotes, entities, event handlers, and anything else
PIECES = [*"<>&\"'/=;: abcon", "<script>", "</b>", "onerror=", "&amp;", "javascript:", "<img src=x>"]
TEXT = st.lists(st.sampled_from(PIECES), min_size=1, max_size=12).map("".join) | st.text(min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(reason=TEXT, key=TEXT, value=TEXT, metric=TEXT)
def test_trial_html_escapes_every_user_string(reason, key, value, metric):
    trial = Trial(3, ARCH, TrialState.FAILED, None, metrics={metric: 0.5}, attrs={key: value}, reason=reason)
    html = repr_mimebundle(trial)["text/html"]
    check_safe_html(html)
    text = unescape(html)
    # the fallback <pre> holds the plain repr; the body may cut long strings, never unescaped markup
    assert reason[:20] in text or reason.strip()[:20] in text


@settings(max_examples=25, deadline=None)
@given(name=TEXT.filter(lambda s: s.strip() != "" and not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in s)), reason=TEXT)
def test_search_html_escapes_its_name_and_trial_reasons(name, reason):
    class Failing(ToyTask):
        def evaluate(self, arch, **kwargs):
            raise nasbook.TrialFailed(reason)

    s = nasbook.Search(SPACE, Failing(SPACE), budget=2, seed=0, storage=":memory:", name=name).run(progress="none")
    html = repr_mimebundle(s)["text/html"]
    check_safe_html(html)
    assert name.strip()[:20] in unescape(html)
