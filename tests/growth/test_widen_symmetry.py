"""Regression (issue 12): a widened network must be able to use its new units under Adam.

Net2Net copies split the next layer's weights unevenly, which breaks the copies' symmetry under
SGD but not under Adam: Adam's update does not depend on a parameter's gradient scale, and a
copy's gradients are the original's times its share, so copies got identical updates and stayed
copies (the grown network kept its parent's width). The default widening must not do that."""

from __future__ import annotations

from nasbook.growth import widen
from nasbook.space import ChainSpace


def _filters_after_adam(method: str | None) -> tuple[object, int]:
    import torch

    from nasbook.growth import grow_network

    space = ChainSpace(kind="cnn", max_depth=2, widths=(4, 12))
    parent_arch = space.make(layers=[["conv3x3", 4]])
    torch.manual_seed(0)
    parent = space.build(parent_arch, (1, 20), 3)
    kwargs = {} if method is None else {"method": method}
    child, seeds = grow_network(space, widen(space, parent_arch, 0, 12), parent, (1, 20), 3, **kwargs)
    assert seeds == []
    x, y = torch.randn(64, 1, 20), torch.randint(0, 3, (64,))
    with torch.no_grad():
        assert torch.allclose(child(x), parent(x), atol=1e-5)  # exact at the moment of growth
    opt = torch.optim.Adam(child.parameters(), lr=5e-3)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(child(x), y).backward()
        opt.step()
    w = child[0].weight.detach().flatten(1)  # (12, 3): the widened layer's filters
    d = torch.cdist(w, w) / w.norm(dim=1).mean()
    d.fill_diagonal_(float("inf"))
    return d, int((d.min(dim=1).values < 0.05).sum())


def test_the_default_widening_gives_new_units_of_their_own_under_adam():
    _, near_duplicates = _filters_after_adam(None)
    assert near_duplicates == 0


def test_net2net_copies_stay_copies_under_adam_which_is_why_it_is_not_the_default():
    _, near_duplicates = _filters_after_adam("net2net")
    assert near_duplicates >= 8  # the 8 new filters (and the originals they copy) stay near-duplicates
