"""The lessons' quantitative claims, pinned: one test per lesson (or per claim) computes the number
with the course's reference library (or the library the claim is about: NumPy, PyTorch) and finds
it, formatted, in the text of the lesson's solution notebook. Editing the text without the
computation, or the computation without the text, fails here.

``claim(lesson, text)`` looks ``text`` up in the lesson's markdown cells with all whitespace runs
collapsed to one space (a line break in the notebook is a space here). ``notebook_function``
compiles a function defined in a lesson's code cell, so a claim about a demo runs the demo's own
code. Numbers that a cell prints beside the text need no pin; everything else does.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import inspect
import json
import math
import re
import warnings

import numpy as np
import pytest

from course import lessons

SOLUTIONS = lessons.solutions_dir()
pytestmark = pytest.mark.skipif(SOLUTIONS is None, reason="needs the solutions/ folder of a checkout")


@functools.cache
def _cells(lesson):
    return json.loads((SOLUTIONS / f"{lesson}.ipynb").read_text(encoding="utf-8"))["cells"]


@functools.cache
def prose(lesson) -> str:
    """The lesson's markdown, whitespace runs collapsed to one space."""
    text = " ".join("".join(c["source"]) for c in _cells(lesson) if c["cell_type"] == "markdown")
    return re.sub(r"\s+", " ", text)


def claim(lesson, text):
    """Assert that the lesson's markdown says ``text`` (whitespace-insensitive)."""
    wanted = re.sub(r"\s+", " ", text).strip()
    assert wanted in prose(lesson), f"lesson {lesson} no longer says: {wanted!r}"


def notebook_function(lesson, name, **namespace):
    """The function ``name`` as defined in the lesson's code cells, compiled alone (its cell's other
    statements are not run) in a namespace with NumPy as ``np`` plus ``namespace``."""
    for cell in _cells(lesson):
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        if not re.search(rf"^(def|class) {name}\b", source, re.M):
            continue
        source = "\n".join(line for line in source.split("\n") if not line.lstrip().startswith("%"))
        node = next(n for n in ast.parse(source).body
                    if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name)
        scope = {"np": np, "math": math, **namespace}
        exec(compile(ast.Module(body=[node], type_ignores=[]), f"{lesson}:{name}", "exec"), scope)
        return scope[name]
    raise AssertionError(f"lesson {lesson} defines no {name}")


def code_line(lesson, start):
    """The one code line of the lesson that starts with ``start`` (stripped)."""
    hits = [line.strip() for c in _cells(lesson) if c["cell_type"] == "code"
            for line in "".join(c["source"]).split("\n") if line.strip().startswith(start)]
    assert len(hits) == 1, f"lesson {lesson}: {len(hits)} code lines start with {start!r}"
    return hits[0]


@contextlib.contextmanager
def quiet():
    """Diverging demo runs warn (the suite turns RuntimeWarning into errors): silence them."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------------------------------------
# lesson 09: initialisation and the depth problem

L09 = "09_initialization"


def test_09_spread_of_the_activations_per_initialisation():
    activations = notebook_function(L09, "activations")
    claim(L09, f"$0.01 \\sqrt{{256}} = {0.01 * math.sqrt(256):.2f}$")
    xavier = [h.std() for h in activations(1 / math.sqrt(256))]
    claim(L09, f"the spread falls slowly, from {xavier[0]:.2f} at layer 1 to {xavier[-1]:.2f} at layer 20")
    small = [h.std() for h in activations(0.01, depth=5)]
    assert small[4] < 1e-3 * small[0]  # "instead of vanishing within five layers"
    gained = [h.std() for h in activations(5 / 3 / math.sqrt(256))]
    assert max(gained[4:]) - min(gained[4:]) < 0.02
    claim(L09, f"the spread stays at about {np.median(gained):.2f} from the first layer to the last")


def test_09_he_init_keeps_relu_activations_of_order_one():
    from course.init import kaiming_std

    activations = notebook_function(L09, "activations")
    stds = [h.std() for h in activations(kaiming_std(256, 256), depth=30, activation=lambda z: np.maximum(z, 0))]
    claim(L09, f"({stds[0]:.2f} at layer 1, {stds[-1]:.1f} at layer 30)")
    assert 0.5 < min(stds) and max(stds) < 2
    assert 'print("ReLU, 30 layers, your He init: output std of layers 1, 11, 21, 30:", np.round(stds[::10] + ' \
        "stds[-1:], 3))" == code_line(L09, 'print("ReLU, 30 layers')  # stds[::10] are layers 1, 11, 21


def test_09_gradient_norms_vanish_and_explode():
    from course.widgets.depth import gradient_profile

    sigmoid = gradient_profile(depth=20, init="small", activation="sigmoid")["grad_norms"]
    relu = gradient_profile(depth=20, init="large", activation="relu")["grad_norms"]
    he = gradient_profile(depth=20, init="he", activation="relu")["grad_norms"]
    claim(L09, "With sigmoid and small weights the first layers get gradients smaller than $10^{-30}$")
    assert sigmoid[0] < 1e-30 < sigmoid[-1]
    claim(L09, "with ReLU and $s = 1$ every gradient is around $10^{15}$")
    assert np.all((relu > 10**14.5) & (relu < 10**15.5))
    claim(L09, "He initialisation keeps them all of order 1")
    assert np.all((he > 0.1) & (he < 10))


def test_09_depth_widget_thresholds_are_the_texts():
    from course.widgets import depth

    claim(L09, f"**exploding** when a norm is not finite or above $10^{{{math.log10(depth.EXPLODING_ABOVE):.0f}}}$, "
               f"or the first layer's norm is more than {depth.MAX_FIRST_TO_LAST:.0f} times the last layer's")
    claim(L09, f"**vanishing** when every norm is below $10^{{{math.log10(depth.VANISHING_BELOW):.0f}}}$, or the "
               f"first layer's is less than 1/{depth.MAX_FIRST_TO_LAST:.0f} of the last layer's")


def test_09_things_to_try_verdicts():
    from course.widgets.depth import gradient_profile, verdict

    def said(depth_, init, activation="sigmoid"):
        return verdict(gradient_profile(depth_, init, activation)["grad_norms"]).split(":")[0]

    claim(L09, 'sigmoid with "small", "xavier" or "he" (its derivative is at most 1/4, so the gradient shrinks at '
               'every layer: from 4 layers on it vanishes), and with "large" (weights big enough to make up for most '
               'of the 1/4: it shrinks more slowly, and vanishes at 30 layers)')
    for init in ("small", "xavier", "he"):
        assert said(3, init) == "healthy" or init == "small"
        assert {said(d, init) for d in (4, 10, 20, 30)} == {"vanishing"}
    assert said(20, "large") == "healthy" and said(30, "large") == "vanishing"
    assert said(20, "large", "relu") == "exploding" and said(20, "xavier", "tanh") == "healthy"


# ---------------------------------------------------------------------------------------------
# lesson 10: normalisation

L10 = "10_normalization"


def test_10_batch_norm_lets_larger_rates_train():
    from course.data import load_digits
    from course.model import MLP
    from course.optim import SGD
    from course.training import fit

    X, y = load_digits("train")
    Xv, yv = load_digits("test")
    acc = {}
    for lr in (0.03, 0.3, 1.5):
        for bn in (False, True):
            model = MLP([64, 64, 64, 64, 10], batchnorm=bn, seed=0)
            with quiet():
                h = fit(model, SGD(model.params, lr=lr), (X, y), epochs=10, batch_size=64, val_data=(Xv, yv),
                        progress=False)
            acc[lr, bn] = np.array(h.val_acc)
    wandering = acc[1.5, False]
    claim(L10, f"Without BN, the largest rate never gets off the ground (in our runs its accuracy wandered between "
               f"{100 * wandering.min():.0f}% and {100 * wandering.max():.0f}%, chance being 10%)")
    passed = {lr: int(np.argmax(acc[lr, True] > 0.9)) + 1 for lr in (0.03, 0.3, 1.5)}
    assert all(acc[lr, True].max() > 0.9 for lr in passed)
    claim(L10, f"with BN every rate trains, and the two larger ones pass 90% within {('one', 'two', 'three')[max(passed[0.3], passed[1.5]) - 1]} "
               f"epochs, where the smallest needs {('three', 'four', 'five', 'six')[passed[0.03] - 3]}")


def test_10_two_examples_normalise_to_plus_minus_one():
    from course.layers import batchnorm_forward

    pair = np.array([[1.0, 2.0, 3.0, 10.0], [1.5, 2.5, 2.0, 3.0]])
    out = batchnorm_forward(pair, np.ones(4), np.zeros(4), {"mode": "train"})[0]
    claim(L10, "for N = 2 every normalised feature is $\\pm 1$")
    np.testing.assert_allclose(np.abs(out), 1, atol=1e-3)


# ---------------------------------------------------------------------------------------------
# lesson 11: regularisation

L11 = "11_regularization"


def test_11_l1_drives_weights_to_zero_but_not_exactly():
    from course.regularization import l1_penalty, l2_penalty

    g = np.random.default_rng(1)
    A = g.standard_normal((100, 50))
    w_true = np.zeros(50)
    w_true[:5] = [3.0, -2.0, 1.5, -1.0, 2.5]
    t = A @ w_true + 0.5 * g.standard_normal(100)
    ends, last = {}, {}
    for name, penalty, lam in [("L2", l2_penalty, 0.5), ("L1", l1_penalty, 0.1)]:
        w, path = np.zeros(50), []
        for _ in range(2000):
            _, grads = penalty({"w": w}, lam)
            w = w - 0.01 * (2 * A.T @ (A @ w - t) / len(t) + grads["w"])
            path.append(w)
        ends[name], last[name] = w, np.array(path[-100:])
    small = np.abs(ends["L1"]) < 0.01
    claim(L11, f"({np.sum(np.abs(ends['L2']) < 0.01)} of the 50 below 0.01)")
    claim(L11, f"({small.sum()} of the 50 end below 0.01, none exactly 0)")
    assert np.all(ends["L1"] != 0) and np.all(np.abs(ends["L1"][:5]) > 0.5)
    # "they jump back and forth within about one step of 0": nearly all of them change sign in 100 steps
    crossings = np.any(np.diff(np.sign(last["L1"][:, small]), axis=0) != 0, axis=0)
    assert crossings.mean() > 0.9 and np.abs(last["L1"][:, small]).max() < 0.01
    claim(L11, "they jump back and forth within about one step of 0")


def test_11_patience_counts_checks_in_a_row():
    from course.regularization import EarlyStopping

    stopper = EarlyStopping(patience=3)
    stops = [stopper.step(v) for v in [1.0, 0.5, 0.6, 0.7, 0.8, 0.4]]
    claim(L11, "patience 3: stop at the third bad check after the best one")
    assert stops == [False, False, False, False, True, False]


def test_11_the_large_batch_takes_30_times_fewer_steps():
    from course.data import load_digits

    n = len(load_digits("train")[1])
    claim(L11, "with batches of 512 for the same number of epochs (30 times fewer steps)")
    assert -(-n // 16) == 30 * -(-n // 512), n  # steps per epoch, the last batch partial
    assert code_line(L11, '("batch 512, same steps"') == '("batch 512, same steps", 512, E * 30)]:'



def test_11_training_runs_as_described():
    from course.data import load_digits
    from course.model import MLP
    from course.optim import Adam
    from course.preprocessing import augment_digits
    from course.training import evaluate, fit

    X, y = load_digits("train")
    Xv, yv = load_digits("test")
    Xs, ys = X[:200], y[:200]

    def train(model, weight_decay=0.0):
        opt = Adam(model.params, lr=3e-3, weight_decay=weight_decay)
        return fit(model, opt, (Xs, ys), epochs=40, batch_size=32, val_data=(Xv, yv), progress=False)

    none = train(MLP([64, 256, 256, 10], seed=0))
    dropout = train(MLP([64, 256, 256, 10], dropout=0.2, seed=0))
    l2 = train(MLP([64, 256, 256, 10], seed=0), weight_decay=1e-3)
    claim(L11, "the validation loss reaches its lowest point early and then **rises**")
    best = int(np.argmin(none.val_loss))
    assert best < 10 and none.val_loss[-1] > 1.1 * none.val_loss[best] and none.train_loss[-1] < 0.01
    claim(L11, "although the validation accuracy hardly moves: the network becomes more and more confident about "
               "its mistakes")
    assert abs(none.val_acc[-1] - none.val_acc[best]) <= 0.02, (none.val_acc[best], none.val_acc[-1])
    claim(L11, "in our runs (40 epochs) the L2 penalty kept the final validation loss clearly below the "
               "unregularised one, while dropout with $p = 0.2$ on this small network moved the lowest point "
               "later but ended higher")
    assert l2.val_loss[-1] < 0.9 * none.val_loss[-1]
    assert np.argmin(dropout.val_loss) > best and dropout.val_loss[-1] > none.val_loss[-1]

    results = {}
    for name, augment in [("plain", None), ("noise", dict(max_shift=0, noise=0.1)),
                          ("shifted", dict(max_shift=1, noise=0.05))]:
        model = MLP([64, 256, 256, 10], seed=0)
        opt = Adam(model.params, lr=3e-3)
        for epoch in range(40):
            X_ep, y_ep = Xs, ys
            if augment is not None:
                X_ep = np.vstack([Xs, augment_digits(Xs, rng=epoch, **augment)])
                y_ep = np.concatenate([ys, ys])
            fit(model, opt, (X_ep, y_ep), epochs=1, batch_size=32, seed=epoch, progress=False)
        results[name] = evaluate(model, Xv, yv)
    claim(L11, "In our runs neither augmentation beat the plain 200 images, and the shifted copies made the "
               "validation loss clearly worse")
    assert results["noise"][1] <= results["plain"][1] and results["shifted"][1] <= results["plain"][1]
    assert results["shifted"][0] > 1.2 * results["plain"][0], results


# ---------------------------------------------------------------------------------------------
# lesson 12: training on a lot of data

L12 = "12_big_data"


def test_12_numpy_allocates_two_temporaries():
    import tracemalloc

    m, g = np.zeros(1_000_000), np.ones(1_000_000)

    def peak(fn):
        tracemalloc.start()
        fn()
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return round(top / m.nbytes)

    def in_place():
        m[...] *= 0.9
        m[...] += 0.1 * g

    assert peak(lambda: 0.9 * m + 0.1 * g) == 2 and peak(in_place) == 1
    claim(L12, "computes three arrays of size $P$ (two products and a sum) at every step, of which NumPy allocates "
               "two")
    claim(L12, "(2 arrays at peak, below); `m *= beta1; m += ...` allocates none for the first part (1 array at "
               "peak)")


# ---------------------------------------------------------------------------------------------
# lesson 13: distributed training

L13 = "13_distributed"


def _stable(a, tau):
    """w(t+1) = w(t) - a w(t - tau) is stable: every root of z^(tau+1) - z^tau + a inside the unit circle."""
    coefficients = np.zeros(tau + 2)
    coefficients[0], coefficients[1], coefficients[-1] = 1.0, -1.0, a
    if tau == 0:
        coefficients = np.array([1.0, a - 1.0])
    return np.max(np.abs(np.roots(coefficients))) < 1


@pytest.mark.parametrize("tau", range(9))
def test_13_stale_gradient_bound_is_exact(tau):
    from course.parallel import stale_gradient_descent

    bound = 2 * math.sin(math.pi / (2 * (2 * tau + 1)))
    assert _stable(0.99 * bound, tau) and not _stable(1.01 * bound, tau)
    # and the course's stale gradient descent on f = 5 w^2 (curvature 10) agrees, on both sides of it
    A, b = np.array([[10.0]]), np.zeros(1)
    for factor, converges in ((0.97, True), (1.03, False)):
        path = stale_gradient_descent(A, b, np.ones(1), factor * bound / 10, tau, 3000)
        assert (abs(path[-1, 0]) < 1e-3) == converges
    claim(L13, "$$\\eta\\lambda < 2 \\sin\\frac{\\pi}{2(2\\tau + 1)},$$ which is 2 at $\\tau = 0$, 1 at $\\tau = 1$, "
               "and about $\\pi/(2(2\\tau + 1))$ for large $\\tau$")


def test_13_the_plotted_line_is_the_bound():
    line = code_line(L13, "tau_edge = ")
    lrs = np.geomspace(0.005, 0.2, 16)
    tau_edge = eval(line.split("=", 1)[1].split("#")[0], {"np": np, "lrs": lrs})
    np.testing.assert_allclose(10 * lrs, 2 * np.sin(np.pi / (2 * (2 * tau_edge + 1))), rtol=1e-12)
    claim(L13, "The white line is the exact bound above for the larger curvature, "
               "$10\\,\\eta < 2\\sin(\\pi/(2(2\\tau + 1)))$")


def test_13_the_staleness_aware_rate_keeps_larger_rates_usable():
    """The lesson's map: curvatures 1 and 10, its learning rates; for each delay, the largest rate
    that still converges, plain and staleness-aware."""
    from course.parallel import stale_gradient_descent

    A, b = np.diag([1.0, 10.0]), np.zeros(2)
    lrs = np.geomspace(0.005, 0.2, 16)

    def largest_stable(tau, aware):
        with quiet():
            ok = [lr for lr in lrs
                  if np.abs(stale_gradient_descent(A, b, np.ones(2), float(lr), tau, 400, aware)[-1]).max() < 1e-2]
        return max(ok, default=0.0)

    claim(L13, "plain stale SGD is stable left of it, a region that shrinks like $1/\\tau$; the staleness-aware "
               "rate keeps larger learning rates usable")
    for tau in (2, 4, 8):
        assert largest_stable(tau, True) > 1.5 * largest_stable(tau, False), tau


def test_13_naive_allreduce_traffic_and_the_bubble():
    from course.parallel import bubble_fraction, pipeline_schedule

    claim(L13, f"with 64 workers and a model of 100 M float32 parameters ({100e6 * 4 / 1e6:.0f} MB), worker 0 "
               f"sends {63 * 100e6 * 4 / 1e9:.0f} GB per step")
    claim(L13, "half of the time, each worker is idle")
    claim(L13, "$$\\frac{S - 1}{M + S - 1}$$")
    for S, M in ((2, 1), (2, 4), (4, 8)):
        schedule = pipeline_schedule(S, M, forward_time=1.0, backward_time=2.0)
        assert bubble_fraction(schedule) == pytest.approx((S - 1) / (M + S - 1))
    assert bubble_fraction(pipeline_schedule(2, 1, forward_time=1.0, backward_time=2.0)) == 0.5


# ---------------------------------------------------------------------------------------------
# lesson 14: hardware and precision

L14 = "14_hardware"


def test_14_intensity_of_a_batch_of_one():
    from course.hardware import linear_intensity, update_traffic

    for d, m in ((784, 256), (256, 256), (256, 10)):
        assert 0.45 <= linear_intensity(1, d, m)[2] <= 0.5
    claim(L14, "2 operations per weight, each weight 4 bytes: intensity about $2/4 = 0.5$")
    claim(L14, f"a 784 x 256 float32 matrix is {round(784 * 256 * 4 / 1e3, -2):.0f} kB")
    n = 1000
    claim(L14, f"intensity about $4 / {update_traffic(n, fused=True) / n:.0f} = {4 * n / update_traffic(n):.1f}$ "
               "FLOP per byte even when fused")
    claim(L14, f"{update_traffic(n, fused=True) / (4 * n):.0f} arrays' worth")
    claim(L14, f"about {update_traffic(n, fused=False) / (4 * n):.0f} arrays' worth of traffic")


def test_14_float_formats_against_numpy():
    f16, f32 = np.finfo(np.float16), np.finfo(np.float32)  # scaled below as Python floats (1e5 overflows float16)
    claim(L14, f"| float16 | 5, 10 | ${f16.max:.0f}$ | ${float(f16.smallest_normal) * 1e5:.1f} \\times 10^{{-5}}$ | "
               f"$2^{{-11}} \\approx {float(f16.eps) / 2 * 1e4:.1f} \\times 10^{{-4}}$ |")
    claim(L14, f"| float32 | 8, 23 | ${f32.max / 1e38:.1f} \\times 10^{{38}}$ | "
               f"${f32.smallest_normal * 1e38:.1f} \\times 10^{{-38}}$ | $2^{{-24}} \\approx {f32.eps / 2 * 1e8:.0f} "
               "\\times 10^{-8}$ |")
    assert (f16.nmant, f32.nmant, f16.nexp, f32.nexp) == (10, 23, 5, 8)
    assert np.float16(2.0**-25) == 0 and np.float16(2.0**-25 * 1.01) > 0
    claim(L14, f"below $2^{{-25}} \\approx {2.0**-25 * 1e8:.0f} \\times 10^{{-8}}$ it **underflows** to 0")
    assert np.float16(1 + 1e-4) == 1
    claim(L14, "$1 + 10^{-4}$ rounds back to 1 in float16")
    claim(L14, f"float16 has about {(f16.nmant + 1) * math.log10(2):.1f})")


def test_the_pytorch_defaults_the_lessons_quote():
    torch = pytest.importorskip("torch")

    scaler = torch.amp.GradScaler("cpu")
    assert (scaler.get_scale(), scaler.get_growth_factor(), scaler.get_backoff_factor(),
            scaler.get_growth_interval()) == (2.0**16, 2.0, 0.5, 2000)
    claim(L14, "$S \\leftarrow S \\cdot \\text{backoff\\_factor}$ (0.5)")
    claim(L14, "after `growth_interval` (2000) good steps **in a row**, $S \\leftarrow S \\cdot \\text{growth\\_factor}$ (2)")
    assert code_line(L14, "def update_scale(").startswith(
        "def update_scale(state, found_inf, *, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5,")
    assert float(torch.nn.PReLU().weight) == 0.25 and torch.nn.LeakyReLU().negative_slope == 0.01
    claim(L09, "one shared by all (`nn.PReLU()`, initialised at 0.25)")
    claim(L09, "keeps a small slope on the negative side, $0.01\\,x$")


def test_14_bfloat16_against_torch():
    torch = pytest.importorskip("torch")
    from course.precision import FORMATS, to_bfloat16

    info = torch.finfo(torch.bfloat16)
    bits = round(-math.log2(info.eps)) + 1  # 7 stored mantissa bits and the implicit one
    assert bits == 8
    claim(L14, f"only about {bits * math.log10(2):.1f} significant decimal digits ($\\log_{{10}} 2^{{{bits}}}$")
    claim(L14, f"| bfloat16 | 8, 7 | ${info.max / 1e38:.1f} \\times 10^{{38}}$ | "
               f"${info.smallest_normal * 1e38:.1f} \\times 10^{{-38}}$ | $2^{{-8}} \\approx "
               f"{info.eps / 2 * 1e3:.1f} \\times 10^{{-3}}$ |")
    assert FORMATS["bfloat16"][0] == info.max and FORMATS["bfloat16"][3] == info.eps / 2
    x = torch.tensor([1.0 + 1e-3, 1000.1, 3.14159], dtype=torch.float32)
    np.testing.assert_array_equal(to_bfloat16(x.numpy()), x.to(torch.bfloat16).to(torch.float32).numpy())


# ---------------------------------------------------------------------------------------------
# lesson 15: second-order methods

L15 = "15_second_order"


def test_15_newton_on_rosenbrock():
    from course.functions import make_quadratic, rosenbrock
    from course.optim import newton_step

    def step(w):
        w = np.array(w, dtype=float)
        return w, newton_step(w, rosenbrock.grad(w), rosenbrock.hessian(w))

    w, new = step((0.2, 0.6))
    low, high = np.linalg.eigvalsh(rosenbrock.hessian(w))
    assert rosenbrock.grad(w) @ (new - w) < 0  # a descent direction, although H is indefinite
    claim(L15, f"$H$ is indefinite (eigenvalues about ${low:.0f}$ and ${high:.0f}$)")
    claim(L15, f"that happens to lower $f$, from {rosenbrock.value(w):.1f} to {rosenbrock.value(new):.2f}")
    w, new = step((0.3, 0.1))
    assert np.linalg.eigvalsh(rosenbrock.hessian(w))[0] < 0 and rosenbrock.grad(w) @ (new - w) > 0
    claim(L15, f"from $(0.3, 0.1)$, where $H$ is indefinite too, the Newton direction points *uphill* "
               f"($g^\\top d > 0$) and one step raises $f$ from {rosenbrock.value(w):.1f} to "
               f"{rosenbrock.value(new):.0f}")
    w, f_path = np.array([-1.2, 1.0]), []
    for _ in range(7):
        w = step(w)[1]
        f_path.append(rosenbrock.value(w))
    claim(L15, "it reaches the minimum to machine precision in about 6 steps")
    assert f_path[5] < 1e-15 and f_path[3] > 1e-6
    bowl = make_quadratic(100.0)
    eig = np.linalg.eigvalsh(bowl.hessian(np.array(bowl.w0)))
    claim(L15, f"its best learning rate is $2/({eig[0]:.0f} + {eig[1]:.0f})$")
    claim(L15, f"would need a Hessian of $10^{{12}}$ numbers ({1e12 * 8 / 1e12:.0f} TB)")


def test_15_the_one_sided_hessian_vector_product_is_worse_above_1e_9():
    from course import quasi_newton
    from course.functions import rosenbrock

    w, v = np.array([0.3, 0.2]), np.array([0.6, -0.8])  # the lesson's point and direction
    exact = rosenbrock.hessian(w) @ v
    claim(L15, "the one-sided difference is worse at every $\\epsilon$ above $10^{-9}$ (below it, round-off swamps both)")
    for e in np.logspace(-12, -1, 45):  # the lesson's grid
        central = np.linalg.norm(quasi_newton.hessian_vector_product(rosenbrock.grad, w, v, e) - exact)
        one_sided = np.linalg.norm((rosenbrock.grad(w + e * v) - rosenbrock.grad(w)) / e - exact)
        if e > 1e-9:
            assert one_sided > central, (e, one_sided, central)


def test_15_lbfgs_and_adam_on_the_three_problems():
    from course import optim
    from course import quasi_newton as qn
    from course.data import load_digits
    from course.functions import make_quadratic, rosenbrock
    from course.losses import softmax_cross_entropy

    X, y = load_digits("train")
    X = np.hstack([X, np.ones((len(X), 1))])

    def digits(w):
        loss, dlogits = softmax_cross_entropy(X @ w.reshape(65, 10), y)
        return loss + 0.5e-3 * float(w @ w), (X.T @ dlogits).reshape(-1) + 1e-3 * w

    def fg(objective):
        return lambda w: (float(objective.value(w)), objective.grad(w))

    bowl = make_quadratic(100.0)
    w_star, _ = qn.minimize(digits, np.zeros(650), method="lbfgs", max_iter=2000, tol=1e-9)
    problems = {"bowl": (fg(bowl), np.array(bowl.w0), 0.0), "rosenbrock": (fg(rosenbrock), np.array(rosenbrock.w0), 0.0),
                "digits": (digits, np.zeros(650), digits(w_star)[0])}

    def adam_steps(f_and_grad, w0, f_star, lr, steps=3000):
        w, state = w0.copy(), {}
        for k in range(steps + 1):
            f, g = f_and_grad(w)
            if f - f_star < 1e-6:
                return k
            optim.adam(w, g, state, lr=lr)
        return math.inf

    grid = (0.003, 0.01, 0.02, 0.05, 0.1, 0.3, 0.5, 1)
    best, all_steps = {}, {}
    for name, (f_and_grad, w0, f_star) in problems.items():
        steps = all_steps[name] = {lr: adam_steps(f_and_grad, w0, f_star, lr) for lr in grid}
        best[name] = min(grid, key=lambda lr: (steps[lr], lr))
        best[name, "steps"] = steps[best[name]]
    claim(L15, f"{best['bowl']} for the bowl, {best['rosenbrock']} for the other two")
    assert best["digits"] == best["rosenbrock"]

    def lbfgs(name):
        f_and_grad, w0, f_star = problems[name]
        _, trace = qn.minimize(f_and_grad, w0, method="lbfgs", max_iter=3000, tol=1e-12)
        return int(np.nonzero(np.asarray(trace["f"]) - f_star < 1e-6)[0][0]), trace["n_evals"]

    its, _ = lbfgs("digits")
    claim(L15, "L-BFGS gets to $10^{-6}$ in about 60 iterations with no learning rate to tune")
    assert 45 <= its <= 75
    claim(L15, "Adam, at the best learning rate of the grid, needs about 160 iterations, and far more at most other "
               "learning rates")
    assert 130 <= best["digits", "steps"] <= 190
    others = [n for lr, n in all_steps["digits"].items() if lr != best["digits"]]
    assert sum(n >= 2 * best["digits", "steps"] for n in others) > len(others) / 2, all_steps["digits"]
    claim(L15, "needs hundreds of steps along Rosenbrock's valley where L-BFGS needs about 30")
    assert 20 <= lbfgs("rosenbrock")[0] <= 40 and best["rosenbrock", "steps"] >= 100


# ---------------------------------------------------------------------------------------------
# lesson 16: convolutional and recurrent networks

L16 = "16_conv_rnn"


def test_16_parameter_counts_and_shapes():
    from course.model import MLP

    cnn = 8 * 1 * 3 * 3 + 8 + (8 * 4 * 4) * 10 + 10
    mlp = sum(v.size for v in MLP([64, 32, 10], seed=0).params.values())
    claim(L16, f"$8 \\times 4 \\times 4 = {8 * 4 * 4}$ features, and a linear layer to the 10 classes: {cnn:,} "
               f"parameters. The MLP of the earlier lessons with 32 hidden units has {mlp:,}")
    claim(L16, f"its {8 * 3 * 3} filter weights are reused at all {8 * 8} positions")
    claim(L16, f"$H' = 1 + (32 + 4 - 5)/1 = {1 + (32 + 4 - 5) // 1}$")
    claim(L16, f"$H' = 1 + \\lfloor 27/2 \\rfloor = {1 + (32 - 5) // 2}$")


def test_the_digits_counts_the_lessons_give():
    from course.data import load_digits

    n_train, n_test = len(load_digits("train")[1]), len(load_digits("test")[1])
    claim(L16, f"Adam on the {n_train:,} training images and evaluated on the {n_test} test images")
    claim(L18, f"(64-128-10, trained on {n_train:,} images)")
    claim(L19, f"with {n_train:,} images and")
    claim(L11, f"on 1,000 training images for each configuration, scored on the other {n_train - 1000} training images")


def test_16_torch_rnn_has_two_biases():
    torch = pytest.importorskip("torch")
    from course.layers import rnn_forward

    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, batch_first=True).double()
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    with torch.no_grad():
        expected = rnn(x)[0].numpy()
    p = {k: v.detach().numpy() for k, v in rnn.named_parameters()}
    assert set(p) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    h, _ = rnn_forward(x.numpy(), np.zeros((2, 5)), p["weight_ih_l0"].T, p["weight_hh_l0"].T,
                       p["bias_ih_l0"] + p["bias_hh_l0"])
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-12)
    claim(L16, "with its weights stored transposed and two biases, `bias_ih_l0` and `bias_hh_l0`, whose sum plays "
               "the role of $b$")


def test_16_unclipped_rnn_blows_up_within_a_hundred_steps():
    from course import layers
    from course.gradients import clip_grad_norm
    from course.losses import mse_loss

    train_rnn = notebook_function(L16, "train_rnn", ref=layers, mse_loss=mse_loss, clip_grad_norm=clip_grad_norm)
    with quiet():
        plain, _ = train_rnn(None, 300)
        clipped, _ = train_rnn(1.0, 300)
    claim(L16, "within about a hundred steps the loss is beyond $10^{12}$, where the run is stopped. With the norm "
               "capped at 1, the same learning rate trains smoothly")
    assert 50 <= len(plain) <= 150 and len(clipped) == 300 and clipped[-20:].mean() < clipped[:20].mean()


def full_run(lesson, start):
    """The full (not ``COURSE_FAST``) value of the lesson's ``start`` line ``NAME = a if FAST else b``:
    the prose describes the full run."""
    return int(re.fullmatch(r".* if FAST else (\d+)", code_line(lesson, start))[1])


def test_16_the_cnn_and_the_mlp_end_up_close_with_half_the_parameters():
    """The lesson's own TinyCNN and the MLP, trained as its cell does, for the full run's epochs."""
    from course import layers
    from course.data import load_digits
    from course.losses import softmax_cross_entropy
    from course.model import MLP
    from course.optim import Adam
    from course.training import evaluate, fit

    TinyCNN = notebook_function(L16, "TinyCNN", ref=layers, softmax_cross_entropy=softmax_cross_entropy)
    (X, y), test = load_digits("train"), load_digits("test")
    epochs = full_run(L16, "epochs = ")
    accuracy, size = {}, {}
    for name, model in {"cnn": TinyCNN(8, seed=0), "mlp": MLP([64, 32, 10], seed=0)}.items():
        fit(model, Adam(model.params, lr=1e-2), (X, y), epochs=epochs, batch_size=32, progress=False)
        accuracy[name] = evaluate(model, *test)[1]
        size[name] = sum(v.size for v in model.params.values())
    claim(L16, f"With {epochs} epochs the two end up close (about 96-97% on the test images), the CNN with just "
               "over half the parameters")
    assert all(0.955 <= a < 0.975 for a in accuracy.values()), accuracy  # "about 96-97%"
    assert abs(accuracy["cnn"] - accuracy["mlp"]) <= 0.01, accuracy  # "close": within a point
    assert 0.5 < size["cnn"] / size["mlp"] < 0.6, size  # "just over half"


# ---------------------------------------------------------------------------------------------
# lesson 17: attention; cross-references

def test_17_residual_connections_are_in_lesson_09():
    claim("17_attention", "a residual connection, lesson 09")
    claim(L09, "## Residual connections")
    claim("17_attention", "lessons 03 (linear, ReLU), 10 (layer norm) and 11 (dropout)")
    claim("10_normalization", "## Layer normalisation")
    claim(L11, "## Dropout")


# ---------------------------------------------------------------------------------------------
# lesson 18: pruning and quantization

L18 = "18_pruning_quantization"


def test_18_worked_quantization_example():
    from course.quantization import qparams, quantize

    scale, zero = qparams(-1.0, 3.0)
    claim(L18, f"$[-1, 3]$ on 8 bits gives $S = 4/255 \\approx {scale:.4f}$ and "
               f"$Z = 0 - \\mathrm{{round}}({-1 / scale:.2f}) = {zero}$")
    codes = quantize(np.array([0.0, 3.0, 10.0]), scale, zero)
    claim(L18, f"Then $x = 0$ is code {codes[0]}, $x = 3$ is code {codes[1]}, and $x = 10$ is clamped to {codes[2]}")
    assert np.round(2.5) == 2
    claim(L18, "$2.5 \\to 2$")
    claim(L18, f"With 8 bits both are as good as float64, for {64 // 8} times less memory")


@pytest.fixture(scope="module")
def lesson_18_runs():
    """The dense MLP, the sparsity sweep and the bit widths, run as the lesson's cells run them (its own
    ``fine_tune`` and ``qat``), for the full run's epochs: test accuracies."""
    from course import pruning, quantization
    from course.data import load_digits, minibatches
    from course.model import MLP
    from course.optim import Adam
    from course.training import evaluate, fit

    (X, y), (Xt, yt) = load_digits("train"), load_digits("test")
    mean, std = X.mean(axis=0), X.std(axis=0) + 1e-8
    X, Xt = (X - mean) / std, (Xt - mean) / std
    model = MLP([64, 128, 10], seed=0)
    fit(model, Adam(model.params, lr=2e-3), (X, y), epochs=full_run(L18, "EPOCHS = "), progress=False)
    dense = {k: v.copy() for k, v in model.params.items()}
    names = dict(MLP=MLP, Adam=Adam, minibatches=minibatches, X_train=X, y_train=y, dense=dense,
                 ref_quant=quantization)
    fine_tune, qat = notebook_function(L18, "fine_tune", **names), notebook_function(L18, "qat", **names)
    runs = {"dense": evaluate(model, Xt, yt)[1], "one-shot": {}, "tuned": {}, "ptq": {}, "qat": {}}
    for s in (0.5, 0.7, 0.8, 0.9, 0.95):
        params = {k: v.copy() for k, v in dense.items()}
        masks = pruning.prune_params(params, s)
        model.params.update(params)
        runs["one-shot"][s] = evaluate(model, Xt, yt)[1]
        runs["tuned"][s] = evaluate(fine_tune(params, masks, epochs=5), Xt, yt)[1]
    for bits in (8, 4, 3, 2):
        model.params.update(quantization.quantize_params(dense, bits))
        runs["ptq"][bits] = evaluate(model, Xt, yt)[1]
        runs["qat"][bits] = evaluate(qat(bits, epochs=5), Xt, yt)[1]
    return runs


def test_18_accuracy_against_sparsity(lesson_18_runs):
    r = lesson_18_runs
    dense, one_shot, tuned = r["dense"], r["one-shot"], r["tuned"]
    assert code_line(L18, "net = fine_tune(") == "net = fine_tune(params, masks, epochs=1 if FAST else 5)"
    assert code_line(L18, "qat_acc.append(") == "qat_acc.append(evaluate(qat(bits, epochs=1 if FAST else 5), X_test, y_test)[1])"
    claim(L18, "Half of the weights can go with hardly any loss (under a point), even without retraining")
    assert dense - one_shot[0.5] < 0.01, r
    claim(L18, "70-80% sparsity the one-shot network loses about 5 to 10 points, and a few epochs of fine-tuning "
               "with the mask bring it back to within a point or so of the dense network")
    assert all(0.04 <= dense - one_shot[s] <= 0.11 for s in (0.7, 0.8)), r
    assert all(dense - tuned[s] <= 0.015 for s in (0.7, 0.8)), r
    claim(L18, "From 90% on both curves fall, the fine-tuned one too")
    assert all(dense - curve[s] > 0.1 for curve in (one_shot, tuned) for s in (0.9, 0.95)), r
    assert one_shot[0.95] < one_shot[0.9] and tuned[0.95] < tuned[0.9], r


def test_18_post_training_quantization_against_qat(lesson_18_runs):
    r = lesson_18_runs
    dense, ptq, qat = r["dense"], r["ptq"], r["qat"]
    claim(L18, "With 8 bits both are as good as float64")
    assert dense - ptq[8] <= 0.003 and dense - qat[8] <= 0.003, r  # at most one test image in 364
    claim(L18, "on this small network even 4 and 3 bits cost PTQ less than a point")
    assert dense - ptq[4] < 0.01 and dense - ptq[3] < 0.01, r
    claim(L18, "At 2 bits (4 values per weight matrix) PTQ drops by several points")
    assert dense - ptq[2] >= 0.03, r
    claim(L18, "QAT, a few epochs with the rounding in the loop, recovers most of it")
    assert qat[2] - ptq[2] > 0.5 * (dense - ptq[2]), r


def test_18_tie_example():
    from course.pruning import magnitude_mask

    claim(L18, "half of the 6 entries go, the smallest (0.1) and, of the three entries with $|w| = 0.5$, exactly "
               "two are pruned (the first two in row-major order)")
    w = np.array([[0.5, -3.0, 0.1], [-0.5, 2.0, 0.5]])  # the lesson's matrix
    pruned = ~magnitude_mask(w, 0.5)
    assert pruned.sum() == 3 and pruned[np.abs(w) == 0.5].tolist() == [True, True, False]


# ---------------------------------------------------------------------------------------------
# lesson 19: the capstone

L19 = "19_capstone"


def test_19_parameter_count():
    from course.capstone import Network

    n = sum(v.size for v in Network(seed=0).params.values())
    claim(L19, f"with 1,433 images and {n:,} parameters the network overfits only a little")
    claim(L19, f"$\\ln 10 \\approx {math.log(10):.2f}$")


def test_19_patience_rule_is_lesson_11s(monkeypatch):
    import course.capstone as capstone
    from course.data import load_digits
    from course.regularization import EarlyStopping

    seen = []

    class Recording(EarlyStopping):
        def step(self, value, params=None):
            seen.append(value)
            return super().step(value, params)

    monkeypatch.setattr(capstone, "EarlyStopping", Recording)
    X, y = load_digits("train")
    _, history = capstone.train(X, y, seed=0, patience=2, epochs=60, time_budget=60)
    best, bad, stop = math.inf, 0, None
    for epoch, value in enumerate(seen):  # lesson 11's rule, written out
        best, bad = (value, 0) if value < best else (best, bad + 1)
        if bad >= 2:
            stop = epoch
            break
    assert stop is not None and len(history) == stop + 1
    claim(L19, "stop after 12 epochs in a row without improvement (lesson 11's rule: stop when `waited >= patience`)")
    train_source = "".join(next(c["source"] for c in _cells(L19) if "def train(" in "".join(c["source"])))
    assert "if waited >= patience or" in train_source and "waited > patience" not in train_source


def test_19_sample_answer_numbers():
    from course.capstone import train
    from course.data import load_digits

    X, y = load_digits("train")
    Xt, yt = load_digits("test")
    net, history = train(X, y, seed=0, time_budget=math.inf)  # the epochs, not how busy this machine is
    acc = np.mean(net.predict(Xt) == yt)
    claim(L19, "The recipe reaches about 98% on the test split")
    assert 0.975 <= acc < 0.985, acc
    claim(L19, "Early stopping ends training after 20 to 40 epochs")
    assert 20 <= len(history) <= 40


# ---------------------------------------------------------------------------------------------
# lessons 01-08: the worked numbers

def test_01_worked_examples():
    from course.layers.activations import sigmoid
    from course.losses import mse_loss, softmax_cross_entropy

    L01 = "01_forward_pass"
    claim(L01, f"$z = 0.5 - 0.5 - 1 + 0.1 = {np.dot([1, 2, -1], [0.5, -0.25, 1]) + 0.1:.1f}$")
    d = lambda z: sigmoid(z) * (1 - sigmoid(z))  # noqa: E731
    claim(L01, f"$\\sigma'(0) = {d(0.0):.2f}$, but $\\sigma'(5) \\approx {d(5.0):.4f}$ and "
               f"$\\sigma'(10) \\approx {d(10.0) * 1e5:.1f} \\cdot 10^{{-5}}$")
    loss, _ = mse_loss(np.array([2.5, 0.0, 2.0]), np.array([3.0, -0.5, 2.0]))
    claim(L01, f"$(0.25 + 0.25 + 0)/3 = {loss:.4f}$")
    loss, dscores = softmax_cross_entropy(np.array([[2.0, 1.0, 0.1]]), np.array([0]))
    claim(L01, f"$p_0 = {dscores[0, 0] + 1:.3f}$ and the loss is ${loss:.3f}$")
    claim(L01, f"$\\log 2 = {math.log(2):.2f}$")
    claim(L01, f"probability 0.01 costs ${-math.log(0.01):.1f}$")
    claim(L01, f"about $\\log 3 = {math.log(3):.2f}$")
    claim(L01, f"about ${np.finfo(np.float64).max / 1e308:.1f} \\cdot 10^{{308}}$")


def test_02_the_worked_gradient():
    from course.autograd import Value

    x, w, b = Value(1.0), Value(0.5), Value(0.5)
    y = (w * x + b).sigmoid()
    y.backward()
    claim("02_chain_rule", f"$\\partial y / \\partial w = {w.grad:.4f}$")
    claim("02_chain_rule", f"\\frac{{dy}}{{dx}} = \\frac{{dy}}{{dz}}\\cdot 1 \\cdot w = {x.grad:.4f}")


def test_03_softmax_example():
    from course.losses import softmax_cross_entropy

    _, dz = softmax_cross_entropy(np.array([[2.0, 1.0, 0.0]]), np.array([0]))
    p = dz[0] + np.array([1, 0, 0])
    claim("03_backprop", f"gives $p = ({p[0]:.3f}, {p[1]:.3f}, {p[2]:.3f})$ and (for N = 1) "
                         f"$dz = ({dz[0, 0]:.3f}, {dz[0, 1]:.3f}, {dz[0, 2]:.3f})$")


def test_04_best_step_per_precision():
    for dtype, h in ((np.float64, "6 \\times 10^{-6}"), (np.float32, "5 \\times 10^{-3}")):
        eps = float(np.finfo(dtype).eps)
        mantissa, exponent = f"{eps ** (1 / 3):.0e}".split("e")
        assert f"{mantissa} \\times 10^{{{int(exponent)}}}" == h
        claim("04_gradient_checking", f"| ${eps / 10 ** math.floor(math.log10(eps)):.1f} \\times "
                                      f"10^{{{math.floor(math.log10(eps))}}}$ | ${h}$")


def test_05_learning_rate_arithmetic():
    from course.functions import make_quadratic

    L05 = "05_gradient_descent"
    w = 2 - 0.1 * 4 * 2
    claim(L05, f"$w \\leftarrow 2 - 0.1 \\cdot 8 = {w:.1f}$, and the loss drops from 8 to {2 * w * w:.2f}")
    bowl = make_quadratic(10.0)
    mu, L = np.linalg.eigvalsh(bowl.hessian(np.array(bowl.w0)))
    kappa = L / mu
    claim(L05, f"here ${kappa - 1:.0f}/{kappa + 1:.0f} \\approx {(kappa - 1) / (kappa + 1):.2f}$, so about "
               f"{math.ceil(math.log(0.1) / math.log((kappa - 1) / (kappa + 1)))} steps per factor of 10")
    claim(L05, f"(is it $2/(L+\\mu) \\approx {2 / (L + mu):.2f}$?)")
    claim(L05, f"$\\eta = 0.25 = {0.25 / (2 / L):.2f} \\times 2/L$")
    claim(L05, f"mini-batch SGD: $B = 32$, `lr = 0.05`: {math.ceil(2000 / 32)} steps per epoch")


def test_08_clipping_against_heavy_tailed_noise():
    from course.gradients import clip_grad_norm

    heavy_tailed_sgd = notebook_function("08_schedules", "heavy_tailed_sgd")
    counting = notebook_function("08_schedules", "counting")
    means = {}
    with quiet():
        for seed in (0, 1, 2):
            clip, counts = counting(clip_grad_norm)
            plain, clipped = heavy_tailed_sgd(None, seed=seed), heavy_tailed_sgd(clip, seed=seed)
            means[seed] = plain[:, -100:].mean(), clipped[:, -100:].mean(), plain.max(), clipped.max()
            if seed == 0:
                share = counts[1] / counts[0]
    claim("08_schedules", "the mean loss stays high, dominated by those few runs (with another seed it is another number: "
                          "this noise has no finite variance; the clipped mean hardly moves)")
    plain_means, clipped_means = [m[0] for m in means.values()], [m[1] for m in means.values()]
    assert max(plain_means) > 2 * min(plain_means), means  # "another number"
    assert max(clipped_means) < 1.2 * min(clipped_means), means  # "hardly moves"
    assert all(p > 10 * c for p, c in zip(plain_means, clipped_means)), means  # "stays high"
    assert all(m[2] > 100 * m[3] for m in means.values()), means  # thrown "far up the walls"
    claim("08_schedules", "a wild gradient moves the weights by at most $\\eta \\cdot$ `max_norm` $= 0.25$")
    defaults = inspect.signature(heavy_tailed_sgd).parameters
    assert defaults["lr"].default * defaults["max_norm"].default == 0.25  # the demo's own lr and max_norm
    claim("08_schedules", "the gradient at the start, $(4, 20)$, has norm 20")
    claim("08_schedules", "in all, on about one step in six (the share printed above)")
    assert 0.14 <= share <= 0.2, share


def test_06_and_07_moving_averages():
    t = np.arange(1, 6001)
    uncorrected = (1 - 0.9**t) / np.sqrt(1 - 0.999**t)
    claim("07_adaptive", f"by up to {uncorrected.max():.1f} times (at step {t[np.argmax(uncorrected)]})")
    row = " | ".join(f"{uncorrected[k - 1]:.2f}" for k in (1, 10, 100, 1000, 5000))
    claim("07_adaptive", f"| uncorrected step / $\\eta$ | {row} |")
    claim("07_adaptive", f"$(1 - \\eta\\lambda)^t = 0.999^{{1000}} \\approx {0.999**1000:.2f}$")
    claim("06_momentum", f"$v_{{10}} \\approx (1 - 0.98^{{10}}) \\times 100 \\approx {(1 - 0.98**10) * 100:.0f}$")
    claim("06_momentum", f"($|y|$ grew by $1.2^{{30}} \\approx {round(1.2**30, -1):.0f}$)")
    claim("06_momentum", f"$\\beta^{{1/(1-\\beta)}} \\approx 1/e \\approx {1 / math.e:.2f}$")
