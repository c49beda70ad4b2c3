"""The exercises of lessons 15-17 (topics second_order, conv, rnn, attention): they exist, and
learner bugs that are NOT registered variants still fail, with the most useful diagnosis where
one applies. (Every reference scoring full marks and every variant being named is tested for all
exercises in test_grader_registry.py.)"""

import numpy as np
import pytest

import course.layers as L
from course.grader import cases, check, exercises, get, run

IDS = {
    "15_second_order": ["second_order.newton_step", "second_order.hessian_vector_product",
                        "second_order.two_loop", "second_order.armijo"],
    "16_conv_rnn": ["conv.conv2d_forward", "conv.conv2d_backward", "conv.max_pool_backward",
                    "rnn.step_backward", "rnn.bptt", "rnn.lstm_step_forward", "rnn.lstm_step_backward",
                    "rnn.gru_step_forward", "rnn.gru_step_backward"],
    "17_attention": ["attention.forward", "attention.backward", "attention.split_heads",
                     "attention.merge_heads", "attention.block_backward"],
}


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


@pytest.mark.parametrize("lesson", sorted(IDS))
def test_lesson_exercises_are_registered(lesson):
    assert [ex.id for ex in exercises(lesson)] == IDS[lesson]


def _conv_pads_every_axis(x, w, b, stride=1, pad=0):
    xp = np.pad(x, pad)  # np.pad(x, pad) pads the batch and channel axes too
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            win = xp[:N, :C, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(win, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def _attention_without_max(q, k, v, mask=None):
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -1e9)
    e = np.exp(s)
    P = e / e.sum(-1, keepdims=True)
    return P @ v, (q, k, v, P)


def _armijo_one_shrink_too_many(f, w, g, p, t0=1.0, c=1e-4, beta=0.5, max_steps=50):
    t = t0
    while f(w + t * p) > f(w) + c * t * (g @ p):
        t *= beta
    return t * beta


def _two_loop_q_not_updated(g, S, Y):
    rho, q, a = 1 / np.sum(S * Y, 1), g.copy(), np.zeros(len(S))
    for i in reversed(range(len(S))):
        a[i] = rho[i] * S[i] @ q
    r = (S[-1] @ Y[-1]) / (Y[-1] @ Y[-1]) * q
    for i in range(len(S)):
        r = r + (a[i] - rho[i] * Y[i] @ r) * S[i]
    return r


def _hvp_in_place(grad, w, v, eps=1e-5):
    w += eps * v
    plus = grad(w)
    w -= 2 * eps * v
    minus = grad(w)
    return (plus - minus) / (2 * eps)


BUGS = [  # (exercise, buggy function, a diagnosis name it must show or None)
    ("conv.conv2d_forward", _conv_pads_every_axis, None),
    ("conv.conv2d_backward", lambda d, c: (lambda g: (g[0], g[1] / d.shape[0], g[2] / d.shape[0]))(
        L.conv2d_backward(d, c)), "factor"),
    ("conv.conv2d_backward", lambda d, c: (lambda g: (g[0], g[1].transpose(0, 1, 3, 2), g[2]))(
        L.conv2d_backward(d, c)), None),
    ("rnn.step_backward", lambda d, c: (lambda g: (g[0], 0 * g[1], *g[2:]))(L.rnn_step_backward(d, c)), None),
    ("attention.forward", _attention_without_max, "nan"),
    ("attention.backward", lambda d, c: (lambda g: (g[0], g[1], 0.5 * g[2]))(L.attention_backward(d, c)),
     "factor"),
    ("attention.merge_heads", lambda x: x.transpose(0, 2, 3, 1).reshape(x.shape[0], x.shape[2], -1), None),
    ("attention.block_backward", lambda d, c: (lambda dx, g: (dx, {**g, "gamma1": 0 * g["gamma1"]}))(
        *L.transformer_block_backward(d, c)), None),
    ("second_order.two_loop", _two_loop_q_not_updated, None),
    ("second_order.armijo", _armijo_one_shrink_too_many, "one_step_off"),
    ("second_order.hessian_vector_product", _hvp_in_place, "mutated"),
]


@pytest.mark.parametrize("exercise_id, fn, name", BUGS, ids=[f"{b[0]}-{i}" for i, b in enumerate(BUGS)])
def test_unregistered_bugs_fail(exercise_id, fn, name):
    result = check(exercise_id, fn)
    assert not result.passed and result.score < result.max_score
    if name is not None:
        assert name in result.diagnosis_names, str(result)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_armijo_variants_stay_two_reductions_from_the_answer(seed):
    """Each wrong line search ends at least two reductions away from the right t (or on it), so a
    learner one reduction off is not mistaken for it."""
    ex = get("second_order.armijo")
    cs = cases(ex, seed)
    ref = np.array([o.outputs for o in run(ex, ex.reference, cs)])
    beta = np.array([c.kwargs["beta"] for c in cs])
    for v in ex.variants:
        k = np.log(np.array([o.outputs for o in run(ex, v.fn, cs)]) / ref) / np.log(beta)
        assert np.all((np.abs(k) < 1e-6) | (np.abs(k) > 1.5)), (v.name, k)


@pytest.mark.parametrize("exercise_id", [i for ids in IDS.values() for i in ids])
def test_replaying_the_answers_of_seed_0_fails_with_seed_1(exercise_id):
    ex = get(exercise_id)
    recorded = iter([o.outputs for o in run(ex, ex.reference, cases(ex, 0))] * 10)
    assert not check(exercise_id, lambda *args, **kwargs: next(recorded), seed=1).passed
