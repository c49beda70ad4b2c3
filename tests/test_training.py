"""fit: accuracy targets on the shipped digits and on spirals, gradient accumulation against one
large batch, the history it records, schedulers, clipping, early stopping, bad input."""

import copy
import math

import numpy as np
import pytest

from course.data import DataLoader, linear_regression, load_digits, spirals
from course.model import MLP
from course.optim import SGD, Adam
from course.regularization import EarlyStopping
from course.schedules import StepLR
from course.training import History, evaluate, fit, plot_history


def _norm(grads):
    return math.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))


def _small(N=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return X, y


# ------------------------------------------------------------------------------------------------
# it learns
# ------------------------------------------------------------------------------------------------


def test_digits_test_accuracy_at_least_97_percent():
    X, y = load_digits("train")
    X_test, y_test = load_digits("test")
    model = MLP([64, 128, 10], seed=0)
    history = fit(model, Adam(model.params, lr=3e-3), (X, y), epochs=40, batch_size=64,
                  val_data=(X_test, y_test), progress=False, seed=0)
    _, test_acc = evaluate(model, X_test, y_test)
    assert test_acc >= 0.97
    assert history.val_acc[-1] == test_acc
    assert history.train_loss[-1] < history.train_loss[0] / 5


def test_spirals_held_out_accuracy_at_least_95_percent():
    X, y = spirals(n_per_class=100, n_classes=3, noise=0.2, seed=0)
    X_new, y_new = spirals(n_per_class=100, n_classes=3, noise=0.2, seed=1)  # fresh points
    model = MLP([2, 64, 64, 3], seed=0)
    fit(model, Adam(model.params, lr=1e-2), (X, y), epochs=60, batch_size=32, progress=False)
    assert np.mean(model.predict(X_new) == y_new) >= 0.95


def test_regression_model():
    X, y = linear_regression(n=200, d=3, noise=0.1, seed=0)
    model = MLP([3, 16, 1], loss="mse", seed=0)
    history = fit(model, Adam(model.params, lr=1e-2), (X, y[:, None]), epochs=30, batch_size=20,
                  val_data=(X, y[:, None]), progress=False)
    assert history.train_acc == [] and history.val_acc == []
    assert history.train_loss[-1] < 0.05 < history.train_loss[0]
    loss, acc = evaluate(model, X, y[:, None])
    assert acc is None and loss == pytest.approx(np.mean((model.predict(X)[:, 0] - y) ** 2))


# ------------------------------------------------------------------------------------------------
# gradient accumulation
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_accumulating_k_micro_batches_equals_one_batch_k_times_larger(optimizer):
    # N = 90, micro-batches of 8: per epoch the groups of 4 hold 32, 32 and 26 rows (the last
    # micro-batch has 2 rows), exactly the batches of 32 a single-batch run takes.
    X, y = _small(90)
    runs = []
    for batch_size, accumulate in ((8, 4), (32, 1)):
        model = MLP([4, 6, 3], activation="tanh", seed=1)
        if optimizer == "sgd":
            opt = SGD(model.params, lr=0.2, momentum=0.9)
        else:
            opt = Adam(model.params, lr=1e-2)
        history = fit(model, opt, (X, y), epochs=3, batch_size=batch_size,
                      accumulate=accumulate, progress=False, seed=5)
        runs.append((model, history))
    (m_acc, h_acc), (m_big, h_big) = runs
    assert h_acc.steps_per_epoch == h_big.steps_per_epoch == 3 and len(h_acc.loss) == 9
    for key in m_big.params:
        np.testing.assert_allclose(m_acc.params[key], m_big.params[key], rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_acc.loss, h_big.loss, rtol=1e-12)
    np.testing.assert_allclose(h_acc.grad_norm, h_big.grad_norm, rtol=1e-12)


def test_one_step_matches_a_hand_written_update():
    X, y = _small(40)
    model = MLP([4, 5, 3], seed=2)
    twin = copy.deepcopy(model)
    loss0, grads0 = twin.loss(X[:40], y[:40])  # shuffle=False, batch 40: one step on all rows
    expected = {k: twin.params[k] - 0.1 * grads0[k] for k in twin.params}
    history = fit(model, SGD(model.params, lr=0.1), (X, y), epochs=1, batch_size=40,
                  shuffle=False, progress=False)
    for k in expected:
        np.testing.assert_allclose(model.params[k], expected[k], rtol=0, atol=1e-14)
    assert history.loss == [pytest.approx(loss0, rel=1e-14)]
    assert history.grad_norm == [pytest.approx(_norm(grads0), rel=1e-14)]
    assert history.lr == [0.1]


def test_clip_norm_rescales_the_step():
    X, y = _small(40)
    model = MLP([4, 5, 3], seed=2)
    twin = copy.deepcopy(model)
    _, g = twin.loss(X, y)
    total = _norm(g)
    max_norm = total / 4
    history = fit(model, SGD(model.params, lr=0.1), (X, y), epochs=1, batch_size=40,
                  shuffle=False, clip_norm=max_norm, progress=False)
    scale = max_norm / (total + 1e-6)
    for k in g:
        np.testing.assert_allclose(model.params[k], twin.params[k] - 0.1 * scale * g[k], atol=1e-14)
    assert history.grad_norm[0] == pytest.approx(total, rel=1e-12)  # recorded before clipping


# ------------------------------------------------------------------------------------------------
# history, schedulers, early stopping, loaders, progress, plots
# ------------------------------------------------------------------------------------------------


def test_history_lengths_and_dict_access():
    X, y = _small(50)
    model = MLP([4, 5, 3], seed=0)
    h = fit(model, SGD(model.params, lr=0.05), (X, y), epochs=3, batch_size=16,
            val_data=_small(20, seed=9), progress=False)
    assert isinstance(h, History) and h.epochs == 3 and h.steps_per_epoch == 4
    assert len(h["loss"]) == len(h["lr"]) == len(h["grad_norm"]) == 12
    for key in ("train_loss", "train_acc", "val_loss", "val_acc"):
        assert len(h[key]) == 3
    assert all(0 <= a <= 1 for a in h.train_acc + h.val_acc)
    assert set(h.as_dict()) == set(h.keys())
    assert h.train_loss[-1] == pytest.approx(evaluate(model, X, y)[0], rel=1e-14)
    assert "epochs=3" in repr(h)
    with pytest.raises(KeyError, match="has no list"):
        h["accuracy"]


@pytest.mark.parametrize("interval,expected", [
    ("epoch", [0.1] * 4 + [0.05] * 4 + [0.025] * 4),
    ("step", [0.1, 0.1, 0.05, 0.05, 0.025, 0.025] + [0.0125] * 2 + [0.00625] * 2 + [0.003125] * 2),
])
def test_scheduler_interval(interval, expected):
    X, y = _small(64)
    model = MLP([4, 5, 3], seed=0)
    opt = SGD(model.params, lr=0.1)
    sched = StepLR(opt, step_size=1 if interval == "epoch" else 2, gamma=0.5)
    h = fit(model, opt, (X, y), epochs=3, batch_size=16, scheduler=sched,
            scheduler_interval=interval, progress=False)
    np.testing.assert_allclose(h.lr, expected, rtol=1e-12)


def test_early_stopping_stops_and_restores_the_best_parameters():
    X, y = spirals(n_per_class=30, seed=0)
    X_bad, y_bad = X, (y + 1) % 3  # the better the fit, the worse this "validation" loss
    model = MLP([2, 32, 3], seed=0)
    stopper = EarlyStopping(patience=2)
    h = fit(model, Adam(model.params, lr=1e-2), (X, y), epochs=50, batch_size=16,
            val_data=(X_bad, y_bad), early_stopping=stopper, progress=False)
    assert h.stopped_early and h.epochs < 50
    assert h.best_epoch == int(np.argmin(h.val_loss))
    assert h.epochs == h.best_epoch + 1 + 2  # patience 2 epochs without improvement
    # the parameters now in the model are those of the best epoch, not the last one
    assert evaluate(model, X_bad, y_bad)[0] == pytest.approx(h.val_loss[h.best_epoch], rel=1e-12)
    assert h.val_loss[-1] != pytest.approx(h.val_loss[h.best_epoch], rel=1e-6)


def test_a_prefetching_loader_trains_exactly_like_arrays():
    X, y = _small(70)
    a, b = MLP([4, 5, 3], seed=0), MLP([4, 5, 3], seed=0)
    fit(a, SGD(a.params, lr=0.1), (X, y), epochs=2, batch_size=8, seed=4, progress=False)
    loader = DataLoader(X, y, 8, seed=4, prefetch=2)
    fit(b, SGD(b.params, lr=0.1), loader, epochs=2, progress=False)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])


def test_divergence_stops_with_a_warning():
    X, y = _small(40)

    class Exploding(MLP):
        calls = 0

        def loss(self, x, y, train=True, rng=None):
            Exploding.calls += 1
            loss, grads = super().loss(x, y, train=train, rng=rng)
            return (math.inf if Exploding.calls == 3 else loss), grads

    model = Exploding([4, 5, 3], seed=0)
    with pytest.warns(UserWarning, match="diverged at step 3"):
        h = fit(model, SGD(model.params, lr=0.1), (X, y), epochs=5, batch_size=10,
                progress=False, shuffle=False)
    assert h.diverged and len(h.loss) == 3 and h.epochs == 0 and math.isinf(h.loss[-1])
    # the parameters are those after the two good steps: the third was not taken
    twin = MLP([4, 5, 3], seed=0)
    fit(twin, SGD(twin.params, lr=0.1), (X[:20], y[:20]), epochs=1, batch_size=10,
        progress=False, shuffle=False)
    for k in twin.params:
        np.testing.assert_array_equal(model.params[k], twin.params[k])


def test_progress_bar(capsys):
    X, y = _small(20)
    model = MLP([4, 3], seed=0)
    fit(model, SGD(model.params, lr=0.1), (X, y), epochs=2, batch_size=10, progress=True)
    err = capsys.readouterr().err
    assert "fit" in err and "2/2" in err and "acc=" in err
    fit(model, SGD(model.params, lr=0.1), (X, y), epochs=2, batch_size=10, progress=False)
    assert capsys.readouterr().err == ""


def test_plot_history():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = _small(30)
    model = MLP([4, 3], seed=0)
    h = fit(model, SGD(model.params, lr=0.1), (X, y), epochs=3, batch_size=10,
            val_data=(X, y), progress=False)
    axes = plot_history(h)
    assert len(axes) == 2 and [len(ax.lines) for ax in axes] == [2, 2]
    np.testing.assert_allclose(axes[0].lines[1].get_ydata(), h.val_loss)
    _, ax = plt.subplots()
    assert plot_history(h.as_dict(), ax=ax) == [ax]
    plt.close("all")


# ------------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("change,error,match", [
    ({"y": np.full(20, 3)}, ValueError, r"labels must be in \[0, C\) = \[0, 3\).*3 outputs.*3 to 3"),
    ({"y": -np.ones(20, dtype=np.int64)}, ValueError, r"from -1 to -1"),
    ({"y": np.zeros(20)}, TypeError, "must be integers"),
    ({"X": np.zeros((0, 4)), "y": np.zeros(0, dtype=np.int64)}, ValueError, "empty"),
    ({"y": np.zeros(19, dtype=np.int64)}, ValueError, "20 rows in X and 19 in y"),
    ({"batch_size": 0}, ValueError, "batch_size must be >= 1"),
    ({"batch_size": -4}, ValueError, "batch_size must be >= 1"),
    ({"epochs": 0}, ValueError, "epochs must be >= 1"),
    ({"epochs": 2.5}, TypeError, "epochs must be an integer"),
    ({"accumulate": 0}, ValueError, "accumulate must be >= 1"),
    ({"clip_norm": -1.0}, ValueError, "clip_norm must be None or a number > 0"),
    ({"scheduler_interval": "batch"}, ValueError, "scheduler_interval must be one of"),
    ({"val_data": (np.zeros((3, 4)), np.array([0, 1, 7]))}, ValueError, "val_data labels"),
    ({"val_data": np.zeros((3, 4))}, TypeError, "val_data must be a pair"),
    ({"X": np.zeros((20, 5))}, ValueError, r"train_data inputs X must have shape \(N, D\) = \(N, 4\)"),
    ({"val_data": (np.zeros((3, 2)), np.zeros(3, dtype=np.int64))}, ValueError, "val_data inputs"),
])
def test_bad_input_is_a_clear_error(change, error, match):
    X, y = _small(20)
    args = {"X": X, "y": y, "batch_size": 5, "epochs": 1} | change
    model = MLP([4, 5, 3], seed=0)
    kwargs = {k: v for k, v in args.items() if k not in ("X", "y")}
    with pytest.raises(error, match=match):
        fit(model, SGD(model.params, lr=0.1), (args["X"], args["y"]), progress=False, **kwargs)


def test_loader_batch_size_conflict():
    X, y = _small(20)
    model = MLP([4, 3], seed=0)
    with pytest.raises(ValueError, match="conflicts with the DataLoader's batch_size=4"):
        fit(model, SGD(model.params, lr=0.1), DataLoader(X, y, 4), batch_size=8, progress=False)
