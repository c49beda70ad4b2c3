"""SPMD code on simulated ranks, stale gradients and two-stage model parallelism, against oracles:
a plain NumPy sum, the full-batch gradient step, finite differences, the GPipe bubble formula."""

import numpy as np
import pytest

from course.parallel import (
    RankError,
    bubble_fraction,
    pipeline_schedule,
    run_ranks,
    stale_gradient_descent,
    two_stage_backward,
    two_stage_forward,
)
from course.parallel import (
    ring_allreduce as simulated_ring,
)
from course.parallel.rank_programs import data_parallel_step, ring_allreduce


@pytest.mark.parametrize("K, shape", [(1, (4,)), (2, (5,)), (3, (7,)), (4, (2, 3)), (6, (4,))])
def test_spmd_ring_equals_sum_and_the_simulated_ring(K, shape):
    rng = np.random.default_rng(K)
    xs = [rng.standard_normal(shape) for _ in range(K)]
    results, trace = run_ranks(ring_allreduce, [(x,) for x in xs])
    for got, sim in zip(results, simulated_ring(xs)):
        np.testing.assert_allclose(got, np.sum(xs, axis=0), rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(got, sim)
    n = int(np.prod(shape))
    assert sum(trace.sent) == 2 * (K - 1) * n  # every element crosses K - 1 links twice
    assert trace.calls == [2 * (K - 1)] * K


def test_spmd_data_parallel_step_is_the_full_batch_step():
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((13, 3)), rng.standard_normal(13), rng.standard_normal(3)
    shards = np.array_split(np.arange(13), 4)
    results, _ = run_ranks(data_parallel_step, [(w, X[i], y[i], 0.1) for i in shards])
    full = w - 0.1 * X.T @ (X @ w - y) / 13
    for got in results:
        np.testing.assert_allclose(got, full, rtol=1e-12)


def test_ranks_that_disagree_are_reported_not_hung():
    def lopsided(x, comm):
        if comm.Get_rank() == 0:
            return x
        return comm.sendrecv(x, dest=0, source=0)

    with pytest.raises(RankError, match="never came"):
        run_ranks(lopsided, [(np.ones(2),), (np.ones(2),)], timeout=0.5)
    with pytest.raises(ValueError, match="dest must be a rank"):
        run_ranks(lambda x, comm: comm.sendrecv(x, dest=5, source=0), [(np.ones(2),)])
    with pytest.raises(ZeroDivisionError):  # a rank's own exception comes back unchanged
        run_ranks(lambda x, comm: 1 / 0, [(1,), (2,)])


def test_stale_gradient_descent():
    rng = np.random.default_rng(1)
    A, b, w0 = np.diag([1.0, 3.0]), rng.standard_normal(2), rng.standard_normal(2)
    path = stale_gradient_descent(A, b, w0, 0.2, 0, 5)
    w = w0.copy()
    for t in range(5):  # staleness 0: plain gradient descent
        w = w - 0.2 * (A @ w - b)
        np.testing.assert_allclose(path[t + 1], w)
    stale = stale_gradient_descent(A, b, w0, 0.2, 2, 4)
    np.testing.assert_allclose(stale[3], stale[2] - 0.2 * (A @ stale[0] - b))
    np.testing.assert_allclose(stale[4], stale[3] - 0.2 * (A @ stale[1] - b))
    aware = stale_gradient_descent(A, b, w0, 0.2, 2, 4, staleness_aware=True)
    np.testing.assert_allclose(aware[2], aware[1] - 0.2 / 2 * (A @ aware[0] - b))  # t = 1, delay 1
    np.testing.assert_allclose(aware[4], aware[3] - 0.2 / 3 * (A @ aware[1] - b))  # t = 3, delay 2
    # a delay that makes plain steps diverge is tamed by the staleness-aware rate
    A = np.diag([1.0, 8.0])
    assert np.abs(stale_gradient_descent(A, b, w0, 0.2, 4, 200)[-1]).max() > 1e6
    assert np.isfinite(stale_gradient_descent(A, b, w0, 0.2, 4, 200, staleness_aware=True)[-1]).all()
    with pytest.raises(ValueError, match="staleness"):
        stale_gradient_descent(A, b, w0, 0.2, -1, 3)


def test_two_stage_backward_against_finite_differences():
    rng = np.random.default_rng(2)
    X, W1, W2, dout = (rng.standard_normal(s) for s in [(4, 3), (3, 5), (5, 2), (4, 2)])
    dW1, dW2 = two_stage_backward(dout, X, W1, W2)

    def numeric(W):
        g, h = np.zeros_like(W), 1e-6
        for i in np.ndindex(W.shape):
            old = W[i]
            W[i] = old + h
            plus = np.sum(two_stage_forward(X, W1, W2)[0] * dout)
            W[i] = old - h
            minus = np.sum(two_stage_forward(X, W1, W2)[0] * dout)
            W[i] = old
            g[i] = (plus - minus) / (2 * h)
        return g

    np.testing.assert_allclose(dW1, numeric(W1), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dW2, numeric(W2), rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match=r"W1 \(D, H\)"):
        two_stage_backward(dout, X, W1.T, W2)


@pytest.mark.parametrize("S, M", [(2, 1), (2, 4), (3, 6), (4, 8)])
def test_pipeline_bubble_is_s_minus_1_over_m_plus_s_minus_1(S, M):
    schedule = pipeline_schedule(S, M, forward_time=1.0, backward_time=1.0)
    assert len(schedule) == 2 * S * M
    assert bubble_fraction(schedule) == pytest.approx((S - 1) / (M + S - 1))
    for s, kind, m, start, end in schedule:  # a stage never does two things at once
        assert not [e for e in schedule if e[0] == s and e is not None and (e[1], e[2]) != (kind, m)
                    and e[3] < end and start < e[4]]
