"""Lesson 12's references against oracles: torch's clip_grad_norm_ and Adam, the big-batch gradient,
tracemalloc for the allocation-free Adam, and a prefetcher that keeps order and passes errors on."""

import threading
import time
import tracemalloc

import numpy as np
import pytest

from course.data_scale import (
    accumulated_step,
    adam_inplace,
    clip_global_norm,
    linear_scaling_lr,
    lsq_grad,
    prefetch,
    time_per_example,
)
from course.grader import check
from course.optim import adam


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


@pytest.mark.torch
@pytest.mark.parametrize("scale, max_norm", [(3.0, 1.0), (0.01, 1.0), (1.0, 2.5)])
def test_clip_global_norm_matches_torch(scale, max_norm):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    grads = {"W": scale * rng.standard_normal((3, 4)), "b": scale * rng.standard_normal(4)}
    before = {k: v.copy() for k, v in grads.items()}
    clipped, total = clip_global_norm(grads, max_norm)
    params = [torch.zeros(v.shape, dtype=torch.float64, requires_grad=True) for v in grads.values()]
    for p, v in zip(params, grads.values()):
        p.grad = torch.tensor(v)
    expected_total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    assert total == pytest.approx(float(expected_total), rel=1e-12)
    for p, k in zip(params, grads):
        np.testing.assert_allclose(clipped[k], p.grad.numpy(), rtol=1e-12)
        np.testing.assert_array_equal(grads[k], before[k])  # the input is not modified


@pytest.mark.torch
def test_accumulated_step_is_the_big_batch_step():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    X, y, w = rng.standard_normal((14, 3)), rng.standard_normal(14), rng.standard_normal(3)
    micro = [(X[:5], y[:5]), (X[5:7], y[5:7]), (X[7:], y[7:])]
    got = accumulated_step(w, micro, 0.1)
    wt = torch.tensor(w, requires_grad=True)
    loss = 0.5 * ((torch.tensor(X) @ wt - torch.tensor(y)) ** 2).mean()
    loss.backward()
    np.testing.assert_allclose(got, w - 0.1 * wt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(lsq_grad(w, X, y), wt.grad.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"micro_batches\[1\]"):
        accumulated_step(w, [(X[:2], y[:2]), (X[:2, :2], y[:2])], 0.1)


@pytest.mark.torch
def test_adam_inplace_matches_torch_and_allocates_nothing():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    w0 = rng.standard_normal(50)
    grads = [rng.standard_normal(50) for _ in range(8)]
    w, state = w0.copy(), {}
    p = torch.tensor(w0, requires_grad=True)
    opt = torch.optim.Adam([p], lr=0.05, betas=(0.8, 0.99), eps=1e-3)
    for g in grads:
        adam_inplace(w, g, state, lr=0.05, betas=(0.8, 0.99), eps=1e-3)
        p.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(w, p.detach().numpy(), rtol=1e-10, atol=1e-12)

    big, g = np.zeros(200_000), np.ones(200_000)
    state = {}
    adam_inplace(big, g, state, lr=0.1)
    tracemalloc.start()
    for _ in range(3):
        adam_inplace(big, g, state, lr=0.1)
    peak_inplace = tracemalloc.get_traced_memory()[1]
    state2 = {}
    adam(big, g, state2, lr=0.1)
    tracemalloc.reset_peak()
    adam(big, g, state2, lr=0.1)
    peak_adam = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak_inplace < 10_000 < big.nbytes <= peak_adam  # course.optim.adam makes temporaries


def test_grader_shows_what_an_allocating_adam_allocates_without_points():
    def allocating(w, g, state, *, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        return adam(w, g, state, lr=lr, betas=betas, eps=eps)  # in place, with temporaries

    result = check("data_scale.adam_inplace", allocating, record=False)
    # measured in the learner's process: a remark (tests/test_measured_outside.py grades the buffers)
    assert result.passed and "allocates" in result.diagnosis_names
    assert check("data_scale.adam_inplace", adam_inplace, record=False).passed


def test_prefetch_keeps_order_runs_ahead_and_passes_errors_on():
    seen = []

    def source():
        for i in range(6):
            seen.append(threading.get_ident())
            yield i

    assert list(prefetch(source(), depth=2)) == list(range(6))
    assert threading.get_ident() not in seen

    def failing():
        yield 1
        raise KeyError("bad record")

    with pytest.raises(KeyError, match="bad record"):
        list(prefetch(failing()))

    produced = []

    def slow():
        for i in range(100):
            produced.append(i)
            yield i

    for item in prefetch(slow(), depth=3):
        if item == 2:
            break
    time.sleep(0.3)
    assert len(produced) < 10  # the queue is bounded and the thread stopped after the break
    with pytest.raises(ValueError, match="depth"):
        next(prefetch([1], depth=0))


def test_linear_scaling_rule_and_time_per_example():
    assert linear_scaling_lr(0, 0.1, 256, 1024, warmup_steps=10) == pytest.approx(0.1)
    assert linear_scaling_lr(5, 0.1, 256, 1024, warmup_steps=10) == pytest.approx(0.25)
    assert linear_scaling_lr(10, 0.1, 256, 1024, warmup_steps=10) == pytest.approx(0.4)
    X, y = np.ones((64, 3)), np.ones(64)
    assert time_per_example(lambda a, b: a @ np.ones(3), X, y, 16, repeat=2) > 0
