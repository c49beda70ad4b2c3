"""Simulated data-parallel SGD: ring all-reduce against the naive one and a plain sum, the ring's
messages against a hand-written schedule, K workers with batch b against one worker with batch
K*b, asynchronous SGD against hand-written loops."""

import numpy as np
import pytest
from _backends import xp  # noqa: F401

from course.backend import to_numpy
from course.losses import softmax_cross_entropy
from course.model import MLP
from course.optim import SGD
from course.parallel import (
    ParameterServer,
    async_sgd,
    chunk_bounds,
    data_parallel_sgd,
    model_grad_fn,
    naive_allreduce,
    ring_allreduce,
)
from course.training import fit

# ------------------------------------------------------------------------------------------------
# all-reduce
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("K", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("shape", [(1,), (5,), (12,), (13,), (101,), (3, 5)])
def test_ring_equals_naive_equals_sum(K, shape):
    rng = np.random.default_rng(K * 100 + shape[0])
    arrays = [rng.standard_normal(shape) for _ in range(K)]
    kept = [a.copy() for a in arrays]
    expected = np.sum(arrays, axis=0)
    ring, naive = ring_allreduce(arrays), naive_allreduce(arrays)
    assert len(ring) == len(naive) == K
    for r, n in zip(ring, naive):
        assert r.shape == n.shape == shape
        np.testing.assert_allclose(r, expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(r, n, rtol=0, atol=1e-12)
    for r in ring[1:]:
        np.testing.assert_array_equal(r, ring[0])  # every worker ends with the very same numbers
    for a, k in zip(arrays, kept):
        np.testing.assert_array_equal(a, k)  # inputs untouched
    ring[0][...] = 0  # each worker owns its own result
    if K > 1:
        np.testing.assert_allclose(ring[1], expected, atol=1e-12)


def test_allreduce_under_every_backend(xp):  # noqa: F811
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(10) for _ in range(3)]
    for reduce in (ring_allreduce, naive_allreduce):
        out = reduce([xp.asarray(a) for a in arrays])
        assert all(xp.is_native(o) for o in out)
        np.testing.assert_allclose(to_numpy(out[2]), np.sum(arrays, axis=0), atol=1e-12)


def test_chunk_bounds():
    assert chunk_bounds(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert chunk_bounds(2, 4) == [(0, 1), (1, 2), (2, 2), (2, 2)]
    assert chunk_bounds(8, 4) == [(0, 2), (2, 4), (4, 6), (6, 8)]


def test_ring_messages_follow_the_schedule():
    _, trace = ring_allreduce([np.arange(3.0) * (w + 1) for w in range(3)], return_trace=True)
    got = [(m.phase, m.step, m.src, m.dst, m.chunk) for m in trace.messages]
    rs, ag = "reduce-scatter", "all-gather"
    assert got == [
        (rs, 0, 0, 1, 0), (rs, 0, 1, 2, 1), (rs, 0, 2, 0, 2),
        (rs, 1, 0, 1, 2), (rs, 1, 1, 2, 0), (rs, 1, 2, 0, 1),
        (ag, 0, 0, 1, 1), (ag, 0, 1, 2, 2), (ag, 0, 2, 0, 0),
        (ag, 1, 0, 1, 0), (ag, 1, 1, 2, 1), (ag, 1, 2, 0, 2),
    ]


@pytest.mark.parametrize("K,n", [(2, 10), (4, 12), (5, 1000), (8, 64)])
def test_ring_sends_2_k_minus_1_over_k_of_the_vector(K, n):
    arrays = [np.ones(n) for _ in range(K)]
    _, ring = ring_allreduce(arrays, return_trace=True)
    assert len(ring.messages) == 2 * K * (K - 1)
    assert all(m.dst == (m.src + 1) % K for m in ring.messages)
    assert ring.sent == ring.received == [2 * (K - 1) * n // K] * K
    assert ring.bytes_sent == [8 * 2 * (K - 1) * n // K] * K
    _, naive = naive_allreduce(arrays, return_trace=True)
    assert naive.received[0] == naive.sent[0] == (K - 1) * n  # the bottleneck at worker 0
    assert naive.sent[1:] == [n] * (K - 1)


def test_ring_with_uneven_chunks_counts_every_element():
    K, n = 4, 10  # chunks of 3, 3, 2, 2
    _, trace = ring_allreduce([np.ones(n)] * K, return_trace=True)
    # worker i sends every chunk except (i + 1) in reduce-scatter and except (i + 2) in all-gather
    sizes = [3, 3, 2, 2]
    assert trace.sent == [2 * n - sizes[(i + 1) % K] - sizes[(i + 2) % K] for i in range(K)]


@pytest.mark.parametrize("reduce", [ring_allreduce, naive_allreduce])
def test_allreduce_bad_input(reduce):
    with pytest.raises(ValueError, match="empty"):
        reduce([])
    with pytest.raises(ValueError, match=r"same shape.*\(3,\).*\(4,\) for worker 1"):
        reduce([np.zeros(3), np.zeros(4)])
    with pytest.raises(TypeError, match="list of K arrays"):
        reduce(np.float64(3.0))


# ------------------------------------------------------------------------------------------------
# parameter server
# ------------------------------------------------------------------------------------------------


def test_parameter_server():
    w0 = {"w": np.array([1.0, 2.0])}
    server = ParameterServer(w0, lr=0.5, keep=2)
    params, version = server.pull()
    assert version == 0
    params["w"][0] = 99  # a copy: the server is not affected
    assert server.push({"w": np.array([2.0, 2.0])}) == 1
    assert server.push({"w": np.array([2.0, 0.0])}) == 2
    np.testing.assert_array_equal(server.pull()[0]["w"], [-1.0, 1.0])
    np.testing.assert_array_equal(server.pull(1)[0]["w"], [0.0, 1.0])
    assert server.pull(0)[1] == 1  # version 0 is no longer kept: the oldest kept one comes back
    np.testing.assert_array_equal(w0["w"], [1.0, 2.0])
    with pytest.raises(ValueError, match="missing"):
        server.push({"v": np.zeros(2)})
    with pytest.raises(ValueError, match="newer"):
        server.pull(5)
    with pytest.raises(ValueError, match="lr must be > 0"):
        ParameterServer(w0, lr=0)


# ------------------------------------------------------------------------------------------------
# training
# ------------------------------------------------------------------------------------------------


def _softmax_regression(params, X, y):
    scores = X @ params["W"] + params["b"]
    loss, dscores = softmax_cross_entropy(scores, y)
    return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def _problem(N=96, D=5, C=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    y = np.argmax(X @ rng.standard_normal((D, C)), axis=1)
    params = {"W": 0.1 * rng.standard_normal((D, C)), "b": np.zeros(C)}
    return X, y, params


def _sequential_sgd(params, X, y, batch, lr, steps, staleness=0):
    """Hand-written SGD over contiguous batches, gradients taken ``staleness`` versions back."""
    versions = [{k: v.copy() for k, v in params.items()}]
    n_batches = len(X) // batch
    for t in range(steps):
        i = t % n_batches
        Xb, yb = X[i * batch : (i + 1) * batch], y[i * batch : (i + 1) * batch]
        _, g = _softmax_regression(versions[max(0, t - staleness)], Xb, yb)
        versions.append({k: versions[-1][k] - lr * g[k] for k in params})
    return versions[-1]


@pytest.mark.parametrize("allreduce", ["ring", "naive", "server"])
@pytest.mark.parametrize("K,b", [(2, 8), (3, 5), (4, 6)])
def test_k_workers_with_batch_b_equal_one_worker_with_batch_kb(allreduce, K, b):
    X, y, params = _problem()
    steps = 10  # more than one epoch for every (K, b)
    got, history = data_parallel_sgd(params, _softmax_regression, (X, y), K, b, lr=0.3,
                                     steps=steps, allreduce=allreduce, shuffle=False)
    expected = _sequential_sgd(params, X, y, K * b, lr=0.3, steps=steps)
    for k in params:
        np.testing.assert_allclose(got[k], expected[k], rtol=0, atol=1e-12)
    assert len(history["loss"]) == steps
    assert not np.array_equal(params["W"], got["W"])  # the caller's params are not changed...
    np.testing.assert_array_equal(params["W"], _problem()[2]["W"])  # ...at all


def test_shuffled_k_workers_equal_one_worker_and_ring_traffic_is_recorded():
    X, y, params = _problem()
    many, h = data_parallel_sgd(params, _softmax_regression, (X, y), 4, 6, lr=0.3, steps=9, seed=2)
    one, _ = data_parallel_sgd(params, _softmax_regression, (X, y), 1, 24, lr=0.3, steps=9, seed=2)
    for k in params:
        np.testing.assert_allclose(many[k], one[k], rtol=0, atol=1e-12)
    # 18 numbers in chunks of 5, 5, 4, 4: worker 1 skips chunks 2 and 3 and sends 36 - 8 = 28,
    # the most of any worker (2 (K - 1) / K * 18 = 27 on average)
    assert h["sent_per_worker"] == [28] * 9


def test_data_parallel_mlp_matches_fit():
    X, y, _ = _problem(N=48)
    model = MLP([5, 7, 3], seed=0)
    start = {k: v.copy() for k, v in model.params.items()}
    got, _ = data_parallel_sgd(start, model_grad_fn(MLP([5, 7, 3], seed=0)), (X, y), K=3,
                               batch_per_worker=4, lr=0.2, steps=8, shuffle=False)
    fit(model, SGD(model.params, lr=0.2), (X, y), epochs=2, batch_size=12, shuffle=False,
        progress=False)
    for k in got:
        np.testing.assert_allclose(got[k], model.params[k], rtol=0, atol=1e-12)


def test_async_with_staleness_0_is_sequential_sgd():
    X, y, params = _problem()
    got, history = async_sgd(params, _softmax_regression, (X, y), K=4, batch_per_worker=8,
                             lr=0.3, steps=15, staleness=0, shuffle=False)
    expected = _sequential_sgd(params, X, y, 8, lr=0.3, steps=15)
    for k in params:
        np.testing.assert_allclose(got[k], expected[k], rtol=0, atol=1e-12)
    assert history["worker"] == [t % 4 for t in range(15)]
    assert history["staleness"] == [0] * 15


@pytest.mark.parametrize("staleness", [1, 3])
def test_async_uses_parameters_staleness_steps_old(staleness):
    X, y, params = _problem()
    got, history = async_sgd(params, _softmax_regression, (X, y), K=4, batch_per_worker=8,
                             lr=0.3, steps=15, staleness=staleness, shuffle=False)
    expected = _sequential_sgd(params, X, y, 8, lr=0.3, steps=15, staleness=staleness)
    fresh = _sequential_sgd(params, X, y, 8, lr=0.3, steps=15)
    for k in params:
        np.testing.assert_allclose(got[k], expected[k], rtol=0, atol=1e-12)
    assert not np.allclose(got["W"], fresh["W"])
    assert history["staleness"] == [min(t, staleness) for t in range(15)]


@pytest.mark.parametrize("call,error,match", [
    (lambda X, y, p, g: data_parallel_sgd(p, g, (X, y), 0, 4, 0.1, 3), ValueError, "K must be"),
    (lambda X, y, p, g: data_parallel_sgd(p, g, (X, y), 2, 4, 0.0, 3), ValueError, "lr must be > 0"),
    (lambda X, y, p, g: data_parallel_sgd(p, g, (X, y), 20, 10, 0.1, 3), ValueError,
     "needs 200 rows"),
    (lambda X, y, p, g: data_parallel_sgd(p, g, (X, y), 2, 4, 0.1, 3, allreduce="tree"),
     ValueError, "allreduce must be one of"),
    (lambda X, y, p, g: data_parallel_sgd(p, g, X, 2, 4, 0.1, 3), TypeError, "pair"),
    (lambda X, y, p, g: data_parallel_sgd(p, None, (X, y), 2, 4, 0.1, 3), TypeError, "grad_fn"),
    (lambda X, y, p, g: async_sgd(p, g, (X, y), 2, 4, 0.1, 3, staleness=-1), ValueError,
     "staleness must be >= 0"),
    (lambda X, y, p, g: async_sgd(p, g, (X, y), 2, 4, 0.1, 0), ValueError, "steps must be"),
])
def test_training_bad_input(call, error, match):
    X, y, params = _problem()
    with pytest.raises(error, match=match):
        call(X, y, params, _softmax_regression)
