"""Fixed small networks and batches on which the proxies' values are pinned (see
``test_proxy_values.py``); ``python tests/proxies/_reference_cases.py`` prints their values as JSON.

The expected numbers in ``reference_values.json`` were computed by the proxies code before the
speed-up of the proxies (nasbook main at commit 8b7c194), so the test checks that the faster passes
compute what the slower ones did (``jacobian_batch="full"``). ``reference_values_halves.json`` pins
jacov, naswot and meco of the default ``jacobian_batch="halves"`` (a deliberate change of their
definition in round 3: taken from the gradient proxies' two half-batch passes; computed by this
module, ``python tests/proxies/_reference_cases.py halves``), the other proxies being unchanged. Torch is imported inside functions (collection stays light).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def cases() -> list[tuple[str, Any, Any, Any]]:
    """``(name, network, x, y)`` for each pinned case; every network is built under a fixed torch seed."""
    import torch
    from torch import nn

    from nasbook.space import CellSpace, ChainSpace, ConvDenseSpace

    def images(n: int, seed: int, shape: tuple[int, ...] = (1, 8, 8), k: int = 10) -> tuple[Any, Any]:
        g = torch.Generator().manual_seed(seed)
        return torch.randn(n, *shape, generator=g), torch.randint(0, k, (n,), generator=g)

    out: list[tuple[str, Any, Any, Any]] = []
    cell = CellSpace(ops=["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"])
    for i in range(3):
        torch.manual_seed(i)
        net = cell.build(cell.sample(np.random.default_rng(i)), (1, 8, 8), 10)
        out.append((f"cell{i}", net, *images(64, i)))
    chain = ChainSpace(kind="cnn", max_depth=3)
    torch.manual_seed(10)
    net = chain.build(chain.make(layers=[["conv3x3", 16], ["sepconv3x3", 32], ["maxpool_conv3x3", 16]]), (1, 8, 8), 10)
    out.append(("chain_cnn", net, *images(32, 10)))
    mlp = ChainSpace(kind="mlp", max_depth=3)
    torch.manual_seed(11)
    net = mlp.build(mlp.make(layers=[["gelu", 32], ["tanh", 32]]), (12,), 3)
    out.append(("chain_mlp", net, *images(33, 11, (12,), 3)))  # odd batch: unequal halves
    cd = ConvDenseSpace()
    torch.manual_seed(12)
    net = cd.build(cd.make(conv=[["conv5_s2", 8], ["conv3", 16]], dense=[32]), (1, 40), 10)
    out.append(("convdense_1d", net, *images(64, 12, (1, 40))))
    torch.manual_seed(13)
    net = nn.Sequential(nn.Linear(12, 48), nn.ReLU(), nn.Dropout(0.3), nn.Linear(48, 48), nn.BatchNorm1d(48),
                        nn.ReLU(), nn.Linear(48, 4))
    out.append(("mlp_dropout_bn", net, *images(40, 13, (12,), 4)))
    return out


def values(jacobian_batch: str = "full") -> dict[str, dict[str, float]]:
    """Every proxy of every case, ``proxies.score(net, x, y, seed=0, jacobian_batch=...)`` on one torch thread."""
    import torch

    from nasbook import proxies

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {name: proxies.score(net, x, y, seed=0, jacobian_batch=jacobian_batch) for name, net, x, y in cases()}
    finally:
        torch.set_num_threads(threads)


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(values(sys.argv[1] if len(sys.argv) > 1 else "full"), indent=1))
