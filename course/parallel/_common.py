"""Helpers shared by the simulated training loops of :mod:`course.parallel`."""

from __future__ import annotations

from ..backend import namespace
from ..data import minibatches
from ..validation import positive


def copy_params(params):
    return {k: namespace(v).asarray(v, copy=True) for k, v in params.items()}


def check_loop(fn, params, grad_fn, data, K, batch_per_worker, lr, steps, rows_per_step):
    if not isinstance(params, dict) or not params:
        raise TypeError(f"{fn}: params must be a non-empty dict of arrays")
    if not callable(grad_fn):
        raise TypeError(f"{fn}: grad_fn must be callable as grad_fn(params, X, y) -> (loss, grads)")
    for name, value in (("K", K), ("batch_per_worker", batch_per_worker), ("steps", steps)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{fn}: {name} must be an int >= 1, got {value!r}")
    positive("lr", lr, fn=fn)
    try:
        X, y = data
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{fn}: data must be a pair (X, y)") from exc
    if len(X) < rows_per_step:
        raise ValueError(
            f"{fn}: one step needs {rows_per_step} rows (K * batch_per_worker) "
            f"but the data set has only {len(X)}"
        )
    return X, y


def batch_stream(X, y, batch_size, shuffle, rng):
    """Endless full batches of ``batch_size`` rows, epoch after epoch (short rests dropped)."""
    while True:
        yield from minibatches(X, y, batch_size, shuffle=shuffle, drop_last=True, rng=rng)
