"""Regularisation and generalisation (lesson 11): L1/L2 penalties, inverted dropout, early
stopping, a leak-free standardiser and augmentation of the digits."""

from __future__ import annotations

import numpy as np

from ...layers import dropout_backward, dropout_forward
from ...preprocessing import augment_digits, shift_image, standardize_splits
from ...regularization import EarlyStopping, l1_penalty, l2_penalty
from ..cases import Case, randn, sizes
from ..registry import Knob, Variant, register
from ..run.lesson_protocols import StoppingRun
from ..run.runner import Backward
from ._stopping import _MinOnly, _NoMinDelta, _NotCopied, _OffByOne, _stop_cases, _TiesImprove

LESSON = "11_regularization"


# ---------------------------------------------------------------------------------------------
# Penalties


def _params(rng, zeros=False):
    D, M = sizes(rng, 2, 2, 6)
    p = {"W1": randn(rng, D, M), "b1": randn(rng, M), "W2": randn(rng, M, 3, scale=3.0)}
    if zeros:
        p["W1"][0, 0] = p["W2"][1, 2] = p["b1"][0] = 0.0
    return p


def _penalty_cases(rng):
    return [
        Case((_params(rng), 0.1), note="lam = 0.1"),
        Case((_params(rng, zeros=True), float(rng.uniform(0.01, 1.0))), note="some weights exactly 0"),
        Case(({"W": randn(rng, 4, 3)}, 0.0), note="lam = 0: no penalty"),
    ]


def _only(names, params, fn):
    """``{k: fn(w)}`` for the chosen keys, zeros for the others (what every penalty's gradient does)."""
    chosen = set(params if names is None else names)
    return {k: fn(w) if k in chosen else np.zeros_like(w) for k, w in params.items()}


def _l2_double_gradient(params, lam, names=None):
    loss, _ = l2_penalty(params, lam, names)
    return loss, _only(names, params, lambda w: 2 * lam * w)


def _l2_no_half(params, lam, names=None):
    chosen = set(params if names is None else names)
    return lam * sum(float(np.sum(w * w)) for k, w in params.items() if k in chosen), _only(names, params,
                                                                                            lambda w: lam * w)


def _l1_grad_at_zero(params, lam, names=None):
    loss, _ = l1_penalty(params, lam, names)
    return loss, _only(names, params, lambda w: np.where(w >= 0, lam, -lam))


def _l1_l2_gradient(params, lam, names=None):
    loss, _ = l1_penalty(params, lam, names)
    return loss, _only(names, params, lambda w: lam * w)


def _l1_no_abs(params, lam, names=None):
    chosen = set(params if names is None else names)
    return lam * sum(float(np.sum(w)) for k, w in params.items() if k in chosen), l1_penalty(params, lam, names)[1]


register(
    "regularization.l2_penalty",
    lesson=LESSON,
    title="L2 penalty and its gradient",
    reference=l2_penalty,
    cases=_penalty_cases,
    outputs=("loss", "grads"),
    arg_names=("params", "lam"),
    variants=(
        Variant("gradient_doubled", _l2_double_gradient,
                "Your gradient is 2 * lam * w, but the penalty is lam / 2 * sum(w**2), whose gradient is "
                "lam * w (the 1/2 is there to cancel the 2)."),
        Variant("missing_half", _l2_no_half,
                "Your penalty is lam * sum(w**2); the course (and SGD's weight_decay) uses lam / 2 * "
                "sum(w**2), so that the gradient is exactly lam * w."),
    ),
    hints=("loss = lam / 2 * sum over all arrays of np.sum(w ** 2); grads[k] = lam * w for every key.",),
)
register(
    "regularization.l1_penalty",
    lesson=LESSON,
    title="L1 penalty and its gradient",
    reference=l1_penalty,
    cases=_penalty_cases,
    outputs=("loss", "grads"),
    arg_names=("params", "lam"),
    variants=(
        Variant("gradient_at_zero", _l1_grad_at_zero,
                "Your gradient is +lam (or -lam) where w is exactly 0; |w| has no slope there and the "
                "convention (np.sign, PyTorch's too) is 0, so that a weight at 0 stays at 0."),
        Variant("l2_gradient", _l1_l2_gradient,
                "Your gradient is lam * w, the L2 gradient; the gradient of lam * |w| is lam * sign(w)."),
        Variant("missing_abs", _l1_no_abs,
                "Your penalty sums w itself; L1 sums the absolute values: lam * sum(np.abs(w))."),
    ),
    hints=("loss = lam * sum of np.sum(np.abs(w)); grads[k] = lam * np.sign(w) (0 where w == 0).",),
)


# ---------------------------------------------------------------------------------------------
# Dropout


def _dropout_cases(rng):
    N, D = sizes(rng, 2, 4, 9)
    seed = lambda: int(rng.integers(0, 2**31))  # noqa: E731
    return [
        Case((randn(rng, N, D), 0.5), {"train": True, "rng": seed()}, note=f"p = 0.5, N = {N}, D = {D}", N=N),
        Case((randn(rng, N, D), 0.2), {"train": True, "rng": seed()}, note="p = 0.2 (drop 20%)", N=N),
        Case((randn(rng, 3, 2, 4), 0.7), {"train": True, "rng": seed()}, note="p = 0.7, a 3-D input", N=3),
        Case((randn(rng, N, D), 0.5), {"train": False, "rng": seed()}, note="eval mode", N=N),
        Case((randn(rng, N, D), 0.0), {"train": True, "rng": seed()}, note="p = 0: nothing dropped", N=N),
    ]


def _draw(x, rng):
    return np.random.default_rng(rng).random(x.shape)


def _dropout_not_scaled(x, p, train=True, rng=None):
    if not train or p == 0:
        return x, None
    return x * (_draw(x, rng) >= p), None


def _dropout_scaled_at_eval(x, p, train=True, rng=None):
    if not train:
        return x * (1 - p), None
    return dropout_forward(x, p, train, rng)


def _dropout_one_mask(x, p, train=True, rng=None):
    if not train or p == 0:
        return x, None
    mask = (np.random.default_rng(rng).random(x.shape[-1:]) >= p) / (1 - p)
    return x * mask, None


def _dropout_keep_prob(x, p, train=True, rng=None):
    if not train or p == 0:
        return x, None
    return x * (_draw(x, rng) < p) / p, None


def _dropout_model(x, p, train=True, rng=None, kept_scaled_by="1 / (1 - p)"):
    """Inverted dropout with the scale of the kept units as a switch."""
    if not train or p == 0:
        return x, None
    scale = {"1 / (1 - p)": 1 / (1 - p) if p < 1 else 0.0, "1 / p": 1 / p}[kept_scaled_by]
    return x * (_draw(x, rng) >= p) * scale, None


register(
    "regularization.dropout_forward",
    lesson=LESSON,
    title="Inverted dropout forward",
    reference=dropout_forward,
    cases=_dropout_cases,
    outputs=("out", None),
    arg_names=("x", "p"),
    model=_dropout_model,
    knobs=(
        Knob("kept_scaled_by", ("1 / p",), "You scaled the kept units by 1 / p; p is the probability of "
             "DROPPING a unit, so a unit is kept with probability 1 - p and the kept ones are divided by 1 - p."),
    ),
    variants=(
        Variant("not_scaled", _dropout_not_scaled,
                "You dropped the units but did not scale the kept ones: divide them by 1 - p, so that the "
                "expected output equals x and eval mode needs no correction (inverted dropout)."),
        Variant("scaled_at_eval", _dropout_scaled_at_eval,
                "Your eval mode scales x by 1 - p; with inverted dropout the scaling happens during "
                "training (divide by 1 - p), and eval mode returns x unchanged."),
        Variant("one_mask_for_the_batch", _dropout_one_mask,
                "You drew one mask per feature and used it for every example; each unit of each example "
                "is dropped independently: draw u with the shape of x, rng.random(x.shape)."),
        Variant("p_is_keep_probability", _dropout_keep_prob,
                "You treated p as the probability of KEEPING a unit; here, as in PyTorch's nn.Dropout(p), "
                "p is the probability of DROPPING one: keep where u >= p, scale by 1 / (1 - p)."),
    ),
    hints=(
        "u = np.random.default_rng(rng).random(x.shape); mask = (u >= p) / (1 - p); out = x * mask.",
        "Eval mode (train=False) or p = 0: return x unchanged, with cache None.",
    ),
)


def _dropout_backward_cases(rng):
    return [Case(c.args, c.kwargs, c.note, c.N, c.fd, {"dout": randn(rng, *c.args[0].shape)})
            for c in _dropout_cases(rng)]


def _backward_not_scaled(dout, cache):
    return dout if cache is None else dout * (cache > 0)


register(
    "regularization.dropout_backward",
    lesson=LESSON,
    title="Inverted dropout backward",
    reference=dropout_backward,
    cases=_dropout_backward_cases,
    outputs=("dx",),
    arg_names=("x",),
    protocol=Backward(dropout_forward, wrt=(0,)),
    variants=(
        Variant("mask_not_scaled", _backward_not_scaled,
                "Your dx is dout where the unit was kept, but the forward multiplied the kept units by "
                "1 / (1 - p): the backward multiplies by the same mask, dx = dout * mask."),
        Variant("mask_ignored", lambda dout, cache: dout.copy(),
                "Your dx ignores the mask: a dropped unit did not contribute to the output, so its "
                "gradient is 0; dx = dout * mask."),
    ),
    hints=("dx = dout * mask, with the mask (zeros and 1 / (1 - p)) from the cache; dx = dout when the cache "
           "is None.",),
)


# ---------------------------------------------------------------------------------------------
# Early stopping: a class, run on a sequence of validation values


register(
    "regularization.early_stopping",
    lesson=LESSON,
    title="EarlyStopping class",
    reference=EarlyStopping,
    cases=_stop_cases,
    outputs=("stopped_at", "restored_from"),
    protocol=StoppingRun(),
    variants=(
        Variant("patience_off_by_one", _OffByOne,
                "Your stopper waits one check too many: stop as soon as `patience` checks IN A ROW have not "
                "improved (num_bad >= patience), not after patience + 1."),
        Variant("min_delta_ignored", _NoMinDelta,
                "An improvement must beat the best value by MORE than min_delta: value < best - min_delta "
                "(mode 'min'); you counted every tiny improvement."),
        Variant("ties_improve", _TiesImprove,
                "A value equal to best - min_delta is not an improvement: use a strict comparison (<, not <=)."),
        Variant("best_weights_not_copied", _NotCopied,
                "After restore() the parameters are not those of the best check: keep COPIES (w.copy()) of "
                "the parameters when the value improves (the arrays themselves keep changing as training "
                "goes on), and copy them back in place in restore(), params[k][...] = saved[k]."),
        Variant("mode_ignored", _MinOnly,
                "With mode='max' (an accuracy), higher is better: value > best + min_delta is the improvement."),
    ),
    hints=(
        "step(value, params): if value improves on best by more than min_delta, remember value and "
        "{k: w.copy() for k, w in params.items()} and set num_bad = 0; else num_bad += 1. Return num_bad >= patience.",
        "restore(params): copy the saved arrays back in place, params[k][...] = saved[k].",
    ),
)


# ---------------------------------------------------------------------------------------------
# Preprocessing and augmentation


def _split_cases(rng):
    D = int(rng.integers(3, 7))

    def split(n, shift):
        X = 5.0 + shift + randn(rng, n, D, scale=3.0)
        X[:, 0] = 2.0  # a constant feature (the digits' border pixels are always 0)
        return X

    return [
        Case((split(12, 0.0), split(5, 4.0), split(4, -3.0)), note=f"D = {D}, val and test shifted, a constant column"),
        Case((split(6, 0.0), split(6, 0.0), split(2, 10.0)), note="a test set far from the training data"),
    ]


def _fit_on_all(X_train, X_val, X_test):
    allX = np.vstack([X_train, X_val, X_test])
    m, s = allX.mean(axis=0), allX.std(axis=0)
    s = np.where(s > 0, s, 1.0)
    return tuple((X - m) / s for X in (X_train, X_val, X_test))


def _own_stats(X_train, X_val, X_test):
    return tuple(standardize_splits(X, X, X)[0] for X in (X_train, X_val, X_test))


def _unbiased_std(X_train, X_val, X_test):
    m, s = X_train.mean(axis=0), X_train.std(axis=0, ddof=1)
    s = np.where(s > 0, s, 1.0)
    return tuple((X - m) / s for X in (X_train, X_val, X_test))


def _zero_std(X_train, X_val, X_test):
    m, s = X_train.mean(axis=0), X_train.std(axis=0)
    return tuple((X - m) / s for X in (X_train, X_val, X_test))


def _standardize_model(X_train, X_val, X_test, divide_by="std"):
    """The standardiser with what it divides by as a switch."""
    m, s = X_train.mean(axis=0), {"std": X_train.std(axis=0), "variance": X_train.var(axis=0)}[divide_by]
    s = np.where(s > 0, s, 1.0)
    return tuple((X - m) / s for X in (X_train, X_val, X_test))


register(
    "regularization.standardize_splits",
    lesson=LESSON,
    title="Leak-free standardiser",
    reference=standardize_splits,
    cases=_split_cases,
    outputs=("train", "val", "test"),
    arg_names=("X_train", "X_val", "X_test"),
    model=_standardize_model,
    knobs=(
        Knob("divide_by", ("variance",), "You divided by the variance; standardising divides by the standard "
             "deviation, X_train.std(axis=0), so that every feature ends with spread 1."),
    ),
    variants=(
        Variant("fit_on_all_data", _fit_on_all,
                "You computed the mean and std on all the data: the validation and test sets leak into "
                "training. Use the statistics of X_train only, for all three splits."),
        Variant("each_split_own_stats", _own_stats,
                "You standardised each split with its own statistics; the model learned on the training "
                "scale, so validation and test must use X_train's mean and std too."),
        Variant("unbiased_std", _unbiased_std,
                "You used the unbiased std (ddof=1); the standardiser uses X_train.std(axis=0), dividing by "
                "N, as scikit-learn's StandardScaler does."),
        Variant("zero_std", _zero_std,
                "A feature that is constant in X_train has std 0, and you divided by it (NaN or inf): use 1 "
                "as its scale, np.where(std > 0, std, 1)."),
    ),
    hints=(
        "mean = X_train.mean(axis=0); std = X_train.std(axis=0); scale = np.where(std > 0, std, 1.0).",
        "Return ((X_train - mean) / scale, (X_val - mean) / scale, (X_test - mean) / scale).",
    ),
)


def _augment_cases(rng):
    N = int(rng.integers(3, 7))
    X = np.floor(rng.uniform(0, 17, (N, 64))) / 16
    seed = lambda: int(rng.integers(0, 2**31))  # noqa: E731
    return [
        Case((X,), {"rng": seed(), "max_shift": 1, "noise": 0.05}, note=f"N = {N} images, max_shift 1"),
        Case((X[:2],), {"rng": seed(), "max_shift": 2, "noise": 0.0}, note="max_shift 2, no noise"),
        Case((X[:3],), {"rng": seed(), "max_shift": 0, "noise": 0.1}, note="noise only"),
    ]


def _augment_with(shift):
    def augment(X, rng=None, max_shift=1, noise=0.05):
        g = np.random.default_rng(rng)
        N = X.shape[0]
        shifts = g.integers(-max_shift, max_shift + 1, size=(N, 2))
        out = np.stack([shift(X[i].reshape(8, 8), int(dy), int(dx)) for i, (dy, dx) in enumerate(shifts)])
        return out.reshape(N, 64) + noise * g.standard_normal((N, 64))

    return augment


register(
    "regularization.augment_digits",
    lesson=LESSON,
    title="Augmentation: shifts and noise",
    reference=augment_digits,
    cases=_augment_cases,
    outputs=("images",),
    arg_names=("X",),
    variants=(
        Variant("wraps_around", _augment_with(lambda img, dy, dx: np.roll(img, (dy, dx), axis=(0, 1))),
                "Your shift wraps around (np.roll): the pixels that leave on one side come back on the other. "
                "Fill the pixels that come in with 0 instead."),
        Variant("axes_swapped", _augment_with(lambda img, dy, dx: shift_image(img, dx, dy)),
                "You swapped the two shifts: column 0 of the drawn shifts is dy (rows: down), column 1 is dx "
                "(columns: right)."),
        Variant("no_noise", lambda X, rng=None, max_shift=1, noise=0.05: augment_digits(X, rng, max_shift, 0.0),
                "Your images have no noise: add noise * rng.standard_normal((N, 64)), drawn after the shifts."),
    ),
    hints=(
        "g = np.random.default_rng(rng); shifts = g.integers(-max_shift, max_shift + 1, size=(N, 2)); then "
        "noise * g.standard_normal((N, 64)), in that order.",
        "Shift each 8x8 image with zero fill: out[dy:, dx:] = img[:8 - dy, :8 - dx] for positive shifts, and "
        "the mirror slices for negative ones.",
    ),
)
