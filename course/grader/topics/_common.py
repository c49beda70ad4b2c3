"""Case builders shared by several exercise modules."""

from __future__ import annotations

import numpy as np

from ..cases import Case, away_from_zero, randn, sizes


def elementwise_cases(rng: np.random.Generator, *, large: bool = True, zeros: bool = False) -> list[Case]:
    """Inputs x for element-wise functions: a batch, N = 1, a 3-D batch, negative-only values,
    large values (overflow), and optionally exact zeros (a kink: no finite differences there)."""
    N, D = sizes(rng, 2, 2, 6)
    out = [
        Case((away_from_zero(rng, N, D),), note=f"N = {N}, D = {D}", N=N),
        Case((away_from_zero(rng, 1, D + 1),), note="N = 1", N=1),
        Case((away_from_zero(rng, 2, 3, 2, scale=2.0),), note="3-D input (2, 3, 2)", N=2),
        Case((-np.abs(away_from_zero(rng, N, 3)),), note="only negative values", N=N),
    ]
    if large:
        x = randn(rng, 2, 4, scale=300.0)
        x[0, 0], x[1, 1] = 1000.0, -1000.0
        out.append(Case((x,), note="large values (|x| up to 1000)", N=2))
    if zeros:
        x = away_from_zero(rng, 3, 4)
        x[0, 1] = x[2, 0] = x[1, 3] = 0.0
        out.append(Case((x,), note="some entries exactly 0", N=3, fd=False))
    return out


def with_dout(rng: np.random.Generator, forward_cases: list[Case]) -> list[Case]:
    """Backward cases from forward cases: ``extra["dout"]`` shaped like the forward's output."""
    return [
        Case(c.args, dict(c.kwargs), c.note, c.N, c.fd, {**c.extra, "dout": randn(rng, *c.args[0].shape)})
        for c in forward_cases
    ]
