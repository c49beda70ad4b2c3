"""Model parallelism: a network cut into two stages on two workers, and the pipeline timeline.

Stage 0 (worker 0) holds W1 and computes ``a = relu(X W1)``; it *sends the activations* ``a``
to worker 1. Stage 1 (worker 1) holds W2 and computes ``out = a W2``. Backward runs the other
way: worker 1 gets ``dout``, computes ``dW2`` and ``da = dout W2^T`` and *sends ``da`` back*;
worker 0 finishes with ``dW1``. Each worker only ever touches its own weights.

With one batch, one worker always waits for the other. Cutting the batch into M micro-batches
lets the stages overlap (GPipe, Huang et al. 2019): :func:`pipeline_schedule` lays the forward
and backward passes out on a timeline, and the idle part of it, the *bubble*, is
(S - 1) / (M + S - 1) of the time for S stages of equal cost.
"""

from __future__ import annotations

import numpy as np

from ..validation import as_array

__all__ = ["two_stage_forward", "two_stage_backward", "pipeline_schedule", "bubble_fraction"]


def _check(fn, X, W1, W2):
    X, W1, W2 = (np.asarray(as_array(n, v, fn=fn), dtype=np.float64) for n, v in (("X", X), ("W1", W1), ("W2", W2)))
    if X.ndim != 2 or W1.ndim != 2 or W2.ndim != 2 or X.shape[1] != W1.shape[0] or W1.shape[1] != W2.shape[0]:
        raise ValueError(
            f"{fn}: need X (N, D), W1 (D, H), W2 (H, M); got X {X.shape}, W1 {W1.shape}, W2 {W2.shape}"
        )
    return X, W1, W2


def two_stage_forward(X, W1, W2):
    """Forward through the two stages: returns ``(out, sent)``.

    - X: (N, D) on worker 0; W1: (D, H) on worker 0; W2: (H, M) on worker 1.
    - out: (N, M) on worker 1; sent: the activations a = relu(X W1), (N, H), that worker 0 sent.
    """
    X, W1, W2 = _check("two_stage_forward", X, W1, W2)
    a = np.maximum(X @ W1, 0.0)
    return a @ W2, a


def two_stage_backward(dout, X, W1, W2):
    """Backward through the two stages: returns ``(dW1, dW2)``.

    - dout: (N, M) the gradient of the loss with respect to ``out`` (on worker 1).
    - X, W1, W2: as for :func:`two_stage_forward`; worker 0 recomputes z = X W1 (its cache).

    Worker 1: dW2 = a^T dout (H, M), da = dout W2^T (N, H), sent back to worker 0.
    Worker 0: dz = da * (z > 0), dW1 = X^T dz (D, H).
    """
    X, W1, W2 = _check("two_stage_backward", X, W1, W2)
    dout = np.asarray(as_array("dout", dout, fn="two_stage_backward"), dtype=np.float64)
    z = X @ W1
    a = np.maximum(z, 0.0)
    if dout.shape != (X.shape[0], W2.shape[1]):
        raise ValueError(f"two_stage_backward: dout must be (N, M) = {(X.shape[0], W2.shape[1])}, got {dout.shape}")
    dW2 = a.T @ dout
    da = dout @ W2.T  # the message from worker 1 back to worker 0
    dW1 = X.T @ (da * (z > 0))
    return dW1, dW2


def pipeline_schedule(stages, micro_batches, forward_time=1.0, backward_time=2.0):
    """The GPipe timeline: all micro-batches forward through every stage, then all backward.

    Stage s can run the forward of micro-batch m once stage s - 1 has finished it (and stage s
    has finished micro-batch m - 1). The backwards start when the last forward is done and run
    from the last stage to the first, micro-batch by micro-batch, under the same rule.
    Returns a list of ``(stage, kind, micro_batch, start, end)``
    with kind "F" or "B", and every stage's busy time is ``M * (forward_time + backward_time)``.
    """
    for name, v in (("stages", stages), ("micro_batches", micro_batches)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"pipeline_schedule: {name} must be an int >= 1, got {v!r}")
    S, M = stages, micro_batches
    end = np.zeros((S, M))
    free = np.zeros(S)
    out = []
    for m in range(M):
        for s in range(S):
            start = max(free[s], end[s - 1, m] if s else 0.0)
            end[s, m] = free[s] = start + forward_time
            out.append((s, "F", m, start, end[s, m]))
    done = end[S - 1].max()
    bend = np.zeros((S, M))
    for m in range(M):
        for s in reversed(range(S)):
            start = max(free[s], bend[s + 1, m] if s < S - 1 else done)
            bend[s, m] = free[s] = start + backward_time
            out.append((s, "B", m, start, bend[s, m]))
    return out


def bubble_fraction(schedule) -> float:
    """The idle share of the timeline: 1 - busy / (stages * total time)."""
    S = 1 + max(e[0] for e in schedule)
    total = max(e[4] for e in schedule)
    busy = sum(e[4] - e[3] for e in schedule)
    return 1.0 - busy / (S * total)
