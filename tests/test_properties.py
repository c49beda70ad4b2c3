"""Property tests over generated shapes and values (Hypothesis; strategies in tests/strategies.py):

- every backward of course.layers and every loss gradient of course.losses against central finite
  differences of its own forward;
- every optimizer class against its pure update function, step by step.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from strategies import HYPERPARAMETERS, batch, batch_and_dout, linear_inputs, matrices, params_and_grads

from course import layers as L
from course import losses, optim
from course.grader.run.calling import fd_gradient

RTOL, ATOL = 1e-5, 1e-7  # central differences at h = 1e-6 on values in [-3, 3]: ~1e-9 relative


def _fd(forward, dout, *arrays):
    """Finite differences of sum(forward(*arrays)[0] * dout) with respect to each array."""
    def value():
        return float(np.sum(forward(*arrays)[0] * dout))

    return [fd_gradient(value, a) for a in arrays]


def _assert_close(got, want):
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


@given(linear_inputs())
def test_linear_backward(inputs):
    x, W, b, dout = inputs
    _, cache = L.linear_forward(x, W, b)
    for got, want in zip(L.linear_backward(dout, cache), _fd(L.linear_forward, dout, x, W, b)):
        _assert_close(got, want)


ELEMENTWISE = [
    (L.relu_forward, L.relu_backward, True),
    (L.leaky_relu_forward, L.leaky_relu_backward, True),
    (lambda x: L.leaky_relu_forward(x, 0.2), L.leaky_relu_backward, True),
    (L.sigmoid_forward, L.sigmoid_backward, False),
    (L.tanh_forward, L.tanh_backward, False),
]


@given(batch_and_dout(), st.sampled_from(range(len(ELEMENTWISE))))
def test_elementwise_backwards(x_dout, which):
    x, dout = x_dout
    forward, backward, kink = ELEMENTWISE[which]
    if kink:
        assume(np.all(np.abs(x) > 1e-4))  # the kink at 0 has no derivative
    _, cache = forward(x)
    _assert_close(backward(dout, cache), _fd(forward, dout, x)[0])


@st.composite
def _norm_inputs(draw, min_n):
    x, dout = draw(batch_and_dout(min_n))
    d = x.shape[1]
    gamma, beta = draw(matrices(1, d))[0], draw(matrices(1, d))[0]
    return x, gamma, beta, dout


@given(_norm_inputs(min_n=2))
def test_batchnorm_backward(inputs):
    x, gamma, beta, dout = inputs
    assume(np.all(x.std(axis=0) > 0.1))  # a nearly constant column is ill-conditioned for differences

    def forward(x, gamma, beta):
        return L.batchnorm_forward(x, gamma, beta, {"mode": "train"})

    _, cache = forward(x, gamma, beta)
    for got, want in zip(L.batchnorm_backward(dout, cache), _fd(forward, dout, x, gamma, beta)):
        _assert_close(got, want)


@given(_norm_inputs(min_n=1))
def test_layernorm_backward(inputs):
    x, gamma, beta, dout = inputs
    assume(x.shape[1] >= 2 and np.all(x.std(axis=1) > 0.1))
    _, cache = L.layernorm_forward(x, gamma, beta)
    for got, want in zip(L.layernorm_backward(dout, cache), _fd(L.layernorm_forward, dout, x, gamma, beta)):
        _assert_close(got, want)


@given(batch_and_dout(), st.sampled_from([0.0, 0.3, 0.7]), st.integers(0, 2**16))
def test_dropout_backward(x_dout, p, seed):
    x, dout = x_dout

    def forward(x):
        return L.dropout_forward(x, p, train=True, rng=seed)  # the same mask every call

    _, cache = forward(x)
    _assert_close(L.dropout_backward(dout, cache), _fd(forward, dout, x)[0])


def _loss_fd(loss, pred, *rest, reduction):
    def value():
        return loss(pred, *rest, reduction=reduction)[0]

    return fd_gradient(value, pred)


@given(batch_and_dout(), st.sampled_from(["mean", "sum"]))
def test_mse_loss_gradient(pred_target, reduction):
    pred, target = pred_target
    _assert_close(losses.mse_loss(pred, target, reduction=reduction)[1],
                  _loss_fd(losses.mse_loss, pred, target, reduction=reduction))


@given(batch(min_n=1).flatmap(lambda z: st.tuples(st.just(z), st.lists(
    st.integers(0, z.shape[1] - 1), min_size=z.shape[0], max_size=z.shape[0]))), st.sampled_from(["mean", "sum"]))
def test_softmax_cross_entropy_gradient(logits_labels, reduction):
    logits, labels = logits_labels
    y = np.array(labels)
    _assert_close(losses.softmax_cross_entropy(logits, y, reduction=reduction)[1],
                  _loss_fd(losses.softmax_cross_entropy, logits, y, reduction=reduction))


@given(batch_and_dout(), st.sampled_from(["mean", "sum"]))
def test_binary_cross_entropy_with_logits_gradient(logits_y, reduction):
    logits, y = logits_y
    y = (y - y.min()) / (np.ptp(y) + 1.0)  # targets in [0, 1)
    _assert_close(losses.binary_cross_entropy_with_logits(logits, y, reduction=reduction)[1],
                  _loss_fd(losses.binary_cross_entropy_with_logits, logits, y, reduction=reduction))


# ---------------------------------------------------------------------------------------------
# Every optimizer class is its pure function, step by step

PURE = {"SGD": optim.sgd, "Adagrad": optim.adagrad, "RMSprop": optim.rmsprop, "Adam": optim.adam,
        "AdamW": optim.adamw}


@st.composite
def _optimizer_runs(draw):
    name = draw(st.sampled_from(sorted(PURE)))
    params, grads = draw(params_and_grads())
    return name, draw(HYPERPARAMETERS[name]), params, grads


@given(_optimizer_runs())
def test_each_optimizer_class_is_its_pure_function(run):
    name, hp, params, grads = run
    cls = getattr(optim, name)
    mine = {k: v.copy() for k, v in params.items()}
    opt = cls(mine, **hp)
    pure = {k: v.copy() for k, v in params.items()}
    states = {k: {} for k in params}
    if name == "Adagrad":  # the class creates its state up front, as PyTorch does
        states = {k: {"step": 0, "sum": np.zeros_like(v)} for k, v in params.items()}
    for g in grads:
        opt.step(g)
        for k in pure:
            PURE[name](pure[k], g[k], states[k], **hp)
        for k in pure:
            np.testing.assert_array_equal(mine[k], pure[k])
    for k in pure:
        assert opt.state[k].keys() == states[k].keys()
