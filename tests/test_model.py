"""The MLP: full backward against finite differences and PyTorch autograd, parameters usable by
course.optim, per-layer statistics, bad input."""

import math

import numpy as np
import pytest

from course.gradcheck import numerical_gradient
from course.layers import linear_forward, relu_backward, relu_forward
from course.losses import softmax_cross_entropy
from course.model import MLP, _relu_backward, _relu_forward
from course.optim import Adam

SIZES = [5, 6, 6, 6, 3]
N = 4


def data(sizes=SIZES, n=N, seed=0, loss="cross_entropy"):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0]))
    if loss == "mse":
        return x, rng.standard_normal((n, sizes[-1]))
    return x, rng.integers(0, sizes[-1], size=n)


def assert_gradients_match(analytic, numeric):
    """Normwise relative error < 1e-7, and every entry within 1e-7 * the largest entry.

    (Gradients that are exactly 0, such as a bias followed by batch norm, are compared with
    the absolute part only.)

    (The largest *elementwise* relative error is not used here: entries whose true value is
    ~1e-7 are swamped by the ~1e-11 rounding noise of the finite difference.)
    """
    diff = float(np.linalg.norm(analytic - numeric))
    scale = float(np.linalg.norm(analytic) + np.linalg.norm(numeric))
    assert diff <= 1e-7 * scale + 1e-10, (diff, scale)  # + 1e-10: for gradients that are ~0
    largest = float(np.max(np.abs(numeric)))
    assert float(np.max(np.abs(analytic - numeric))) <= 1e-7 * largest + 1e-10


def randomise(model, seed=0):
    """Random biases, gammas and betas (in place): a stronger test than 0 and 1, and no exact
    ReLU kink (a row of zeros times W plus a zero bias is exactly 0, where the finite difference
    straddles the kink)."""
    rng = np.random.default_rng(seed)
    for key, w in model.params.items():
        if not key.startswith("W"):
            w[:] = rng.uniform(0.5, 1.5, size=w.shape) if key.startswith("gamma") else (
                0.1 * rng.standard_normal(w.shape)
            )


def check_model_gradients(model, x, y, rng=7):
    """Every parameter's gradient (and the input's) against centred differences of loss(x, y).

    Passing the same dropout seed to each forward fixes the masks, so the loss is a fixed
    function of the parameters.
    """
    randomise(model)
    _, grads = model.loss(x, y, rng=rng)
    grads = {k: v.copy() for k, v in grads.items()}
    assert set(grads) == set(model.params)

    def f(_):
        return model.loss(x, y, rng=rng)[0]

    for key, w in model.params.items():
        assert grads[key].shape == w.shape
        assert_gradients_match(grads[key], numerical_gradient(f, w))
    # the input gradient, on request
    scores = model.forward(x, rng=rng)
    if model.loss_name == "cross_entropy":
        _, dscores = softmax_cross_entropy(scores, y)
    else:
        dscores = 2 * (scores - y) / scores.size
    model.backward(dscores, input_grad=True)
    dx = model.dx.copy()
    assert_gradients_match(dx, numerical_gradient(lambda v: model.loss(v, y, rng=rng)[0], x))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"batchnorm": True},
        {"dropout": 0.3},
        {"residual": True},
        {"batchnorm": True, "dropout": 0.2, "residual": True},
        {"loss": "mse"},
    ],
    ids=["plain", "batchnorm", "dropout", "residual", "all", "mse"],
)
def test_full_backward_finite_differences(activation, options):
    model = MLP(SIZES, activation=activation, seed=1, **options)
    x, y = data(loss=options.get("loss", "cross_entropy"))
    check_model_gradients(model, x, y)


def test_single_layer_and_single_hidden_layer():
    for sizes in ([5, 3], [5, 8, 3]):
        model = MLP(sizes, seed=2, batchnorm=True, dropout=0.1)
        x, y = data(sizes)
        check_model_gradients(model, x, y)


def test_dropout_mask_is_fixed_by_seed_and_differs_otherwise():
    model = MLP(SIZES, dropout=0.5, seed=0)
    x, _ = data()
    a = model.forward(x, rng=3)
    np.testing.assert_array_equal(a, model.forward(x, rng=3))
    assert not np.array_equal(a, model.forward(x, rng=4))
    assert not np.array_equal(model.forward(x), model.forward(x))  # the model's own generator
    np.testing.assert_array_equal(model.forward(x, train=False), model.forward(x, train=False))


def test_loss_and_gradients_match_torch_autograd():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for options in ({}, {"batchnorm": True}, {"residual": True}, {"batchnorm": True, "residual": True}):
        model = MLP(SIZES, activation="tanh", seed=3, **options)
        for key in model.params:
            if key.startswith("b") and not key.startswith("beta"):  # non-zero biases
                model.params[key][:] = np.random.default_rng(len(key)).standard_normal(
                    model.params[key].shape
                )
        x, y = data(n=8, seed=4)
        t = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
        h = torch.from_numpy(x)
        L = model.num_layers
        for l in range(1, L + 1):
            z = h @ t[f"W{l}"] + t[f"b{l}"]
            if l == L:
                h = z
                break
            if options.get("batchnorm"):
                z = F.batch_norm(z, None, None, t[f"gamma{l}"], t[f"beta{l}"], training=True)
            a = torch.tanh(z)
            h = h + a if options.get("residual") and l >= 2 else a
        loss_t = F.cross_entropy(h, torch.from_numpy(y))
        loss_t.backward()
        loss, grads = model.loss(x, y)
        assert loss == pytest.approx(loss_t.item(), rel=1e-12)
        for key in model.params:
            np.testing.assert_allclose(grads[key], t[key].grad.numpy(), rtol=1e-9, atol=1e-13)


def test_one_layer_model_is_softmax_regression():
    model = MLP([5, 3], seed=0)
    x, y = data([5, 3])
    scores, _ = linear_forward(x, model.params["W1"], model.params["b1"])
    loss, _ = model.loss(x, y)
    assert loss == pytest.approx(softmax_cross_entropy(scores, y)[0], rel=1e-15)


def test_model_relu_equals_course_layers_relu():
    z = np.random.default_rng(5).standard_normal((6, 7))
    z[0, :3] = 0.0
    dout = np.random.default_rng(6).standard_normal((6, 7))
    out, cache = _relu_forward(z)
    ref_out, ref_cache = relu_forward(z)
    np.testing.assert_array_equal(out, ref_out)
    np.testing.assert_array_equal(_relu_backward(dout, cache), relu_backward(dout, ref_cache))


# ------------------------------------------------------------------ parameters, optimisers, modes


def test_parameters_shapes_init_and_seed():
    model = MLP([784, 256, 128, 10], batchnorm=True, seed=0)
    assert list(model.params) == [
        "W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3", "b3"
    ]
    assert model.params["W1"].shape == (784, 256) and model.params["b3"].shape == (10,)
    assert float(np.std(model.params["W1"])) == pytest.approx(math.sqrt(2 / 784), rel=0.02)
    assert np.all(model.params["b1"] == 0) and np.all(model.params["gamma2"] == 1)
    same = MLP([784, 256, 128, 10], batchnorm=True, seed=0)
    other = MLP([784, 256, 128, 10], batchnorm=True, seed=1)
    np.testing.assert_array_equal(model.params["W2"], same.params["W2"])
    assert not np.array_equal(model.params["W2"], other.params["W2"])


@pytest.mark.parametrize(
    "init, std",
    [
        ("he", math.sqrt(2 / 400)),
        ("he_uniform", math.sqrt(2 / 400)),
        ("xavier", math.sqrt(2 / 700)),
        ("xavier_uniform", math.sqrt(2 / 700)),
        ("pytorch", 1 / math.sqrt(3 * 400)),
        (0.01, 0.01),
    ],
)
def test_init_options(init, std):
    model = MLP([400, 300, 10], init=init, seed=0)
    assert float(np.std(model.params["W1"])) == pytest.approx(std, rel=0.02)


def test_tanh_he_init_uses_the_tanh_gain():
    model = MLP([400, 300, 10], activation="tanh", init="he", seed=0)
    assert float(np.std(model.params["W1"])) == pytest.approx(5 / 3 / math.sqrt(400), rel=0.02)


def test_adam_updates_params_in_place_and_training_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + 2 * (x[:, 2] > 0)
    model = MLP([4, 16, 16, 4], seed=0, batchnorm=True, dropout=0.1, residual=True)
    opt = Adam(model.params, lr=1e-2)
    W1 = model.params["W1"]
    first, _ = model.loss(x, y)
    for _ in range(150):
        _, grads = model.loss(x, y)
        opt.step(grads)
    assert model.params["W1"] is W1  # updated in place: the model sees the new values
    last, _ = model.loss(x, y, train=False)
    assert last < 0.3 * first
    assert float(np.mean(model.predict(x) == y)) > 0.9


def test_grads_dict_is_refilled_and_caches_freed():
    model = MLP(SIZES, seed=0)
    x, y = data()
    _, g1 = model.loss(x, y)
    W1_grad = g1["W1"]
    _, g2 = model.loss(x, 2 - y)
    assert g1 is g2 is model.grads and g2["W1"] is not W1_grad
    assert model.dx is None
    with pytest.raises(RuntimeError, match="call forward before backward"):
        model.backward(np.ones((N, 3)))  # the caches of the last forward were used and freed


def test_predict_uses_eval_mode():
    model = MLP(SIZES, batchnorm=True, dropout=0.5, seed=0)
    x, y = data(n=10)
    model.loss(x, y)
    running = model.bn_params[0]["running_mean"].copy()
    pred = model.predict(x)
    assert pred.shape == (10,) and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, np.argmax(model.forward(x, train=False), axis=1))
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], running)  # unchanged
    np.testing.assert_array_equal(pred, model.predict(x))  # no dropout: deterministic
    mse = MLP([5, 4, 2], loss="mse", seed=0)
    assert mse.predict(x).shape == (10, 2)


def test_batchnorm_model_single_example_needs_eval_mode():
    model = MLP(SIZES, batchnorm=True, seed=0)
    x, y = data(n=1)
    with pytest.raises(ValueError, match="at least 2 examples"):
        model.loss(x, y)
    assert model.predict(x).shape == (1,)


def test_float32_model():
    model = MLP(SIZES, dtype="float32", seed=0, batchnorm=True, dropout=0.1)
    x, y = data()
    assert all(p.dtype == np.float32 for p in model.params.values())
    loss, grads = model.loss(x, y)  # float64 x is converted to the model's dtype
    assert all(g.dtype == np.float32 for g in grads.values())
    ref = MLP(SIZES, seed=0, batchnorm=True, dropout=0.1)
    assert loss == pytest.approx(ref.loss(x, y)[0], rel=1e-5)


# ------------------------------------------------------------------ statistics for the lesson


def test_stats_show_vanishing_activations_with_tiny_init():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 100))
    y = rng.integers(0, 10, size=128)
    sizes = [100] + [100] * 8 + [10]
    he = MLP(sizes, init="he", seed=0, track_stats=True)
    he.loss(x, y)
    small = MLP(sizes, init=0.01, activation="tanh", seed=0, track_stats=True)
    small.loss(x, y)
    for model in (he, small):
        assert all(len(v) == model.num_layers for v in model.stats.values())
    # He init keeps the activations' scale; std 0.01 shrinks them ~10x per layer
    assert 0.3 < he.stats["act_std"][-2] / he.stats["act_std"][0] < 3
    assert small.stats["act_std"][-2] / small.stats["act_std"][0] < 1e-6
    # ReLU zeroes about half of the hidden units; tanh none
    assert all(0.3 < f < 0.7 for f in he.stats["act_frac_zero"][:-1])
    assert max(small.stats["act_frac_zero"]) == 0.0
    # the gradients reaching the first layers vanish too (~10x per layer)
    assert small.stats["grad_h_std"][0] < 1e-6 * small.stats["grad_h_std"][-1]
    # ... and with std 1.0 the weight gradients explode towards the input
    big = MLP(sizes, init=1.0, activation="tanh", seed=0, track_stats=True)
    big.loss(x, y)
    assert big.stats["grad_W_norm"][0] > 100 * big.stats["grad_W_norm"][-1]
    assert MLP(SIZES).stats == {k: [] for k in he.stats}  # off by default


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "y, exc, match",
    [
        (np.array([0, 1, 2, 3]), ValueError, r"labels in \[0, C\) = \[0, 3\)"),
        (np.array([0, 1, 2]), ValueError, r"y must have shape \(N,\)"),
        (np.array([0.0, 1.0, 2.0, 1.0]), TypeError, "integer class labels"),
        (np.array([[0], [1], [2], [1]]), ValueError, "y must have shape"),
    ],
)
def test_bad_labels(y, exc, match):
    model = MLP(SIZES, seed=0)
    x, _ = data()
    with pytest.raises(exc, match=match):
        model.loss(x, y)


def test_bad_inputs_and_targets():
    model = MLP(SIZES, seed=0)
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\) = \(\?, 5\)"):
        model.forward(np.ones((4, 6)))
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\)"):
        model.forward(np.ones(5))
    with pytest.raises(TypeError, match="floating-point"):
        model.forward(np.ones((4, 5), dtype=np.uint8))
    with pytest.raises(TypeError, match="train must be True or False"):
        model.forward(np.ones((4, 5)), train="eval")
    mse = MLP(SIZES, loss="mse", seed=0)
    with pytest.raises(ValueError, match=r"y must have shape \(N, C\) = \(4, 3\)"):
        mse.loss(np.ones((4, 5)), np.ones((4, 2)))
    model.forward(np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, C\) = \(4, 3\)"):
        model.backward(np.ones((4, 2)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"sizes": [5]}, "at least 2 widths"),
        ({"sizes": [5, 0, 3]}, r"sizes\[1\] must be a positive integer"),
        ({"sizes": [5, 4.5, 3]}, r"sizes\[1\]"),
        ({"activation": "swish"}, "activation must be one of"),
        ({"init": "lecun"}, "init must be one of"),
        ({"init": -1.0}, "init must be one of"),
        ({"loss": "hinge"}, "loss must be one of"),
        ({"dropout": 1.0}, "DROPPING"),
        ({"dtype": "int32"}, "dtype"),
        ({"sizes": [5, 6, 7, 3], "residual": True}, "residual=True.*equal width.*got hidden widths"),
        ({"sizes": [5, 6, 3], "residual": True}, "at least two hidden layers"),
        ({"seed": 1.5}, "rng must be"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    kwargs = {"sizes": SIZES, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        MLP(**kwargs)
