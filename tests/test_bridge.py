"""Lesson 20's references against independent oracles: the capstone's NumPy network on the same
weights (forward in both modes, gradients, running statistics), and a training step written out
by hand; the checks' named mistakes; the lesson without PyTorch."""

import numpy as np
import pytest

from course.capstone import Network
from course.grader import check
from course.notebook import extra_message, needs_extra

torch = pytest.importorskip("torch")
F = torch.nn.functional

from course.bridge import grads_to_numpy, to_torch_module, train_step  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def _trained_net(seed=0, H=32):
    rng = np.random.default_rng(seed)
    net = Network(seed=seed, hidden=H, dropout=0.0)
    X = rng.standard_normal((40, 64))
    y = rng.integers(0, 10, 40)
    for _ in range(3):  # moves gamma, beta and the running statistics off their initial values
        _, g = net.loss_and_grads(X, y, rng=0)
        for k in net.params:
            net.params[k] -= 0.1 * g[k]
    return net, X, y


def test_eval_forward_matches_the_numpy_network():
    net, X, _ = _trained_net()
    model = to_torch_module(net.params, net.bn, dropout=0.0).eval()
    with torch.no_grad():
        got = model(torch.tensor(X)).numpy()
    np.testing.assert_allclose(got, net.scores(X, train=False), rtol=1e-10, atol=1e-12)


def test_training_pass_gradients_and_running_stats_match_the_numpy_network():
    net, X, y = _trained_net(1)
    model = to_torch_module(net.params, net.bn, dropout=0.0).train()
    loss = F.cross_entropy(model(torch.tensor(X)), torch.tensor(y))
    loss.backward()
    np_loss, np_grads = net.loss_and_grads(X, y, rng=0)  # also updates net.bn's running statistics
    assert loss.item() == pytest.approx(np_loss, rel=1e-12)
    got = grads_to_numpy(model)
    assert got.keys() == np_grads.keys()
    for k in np_grads:
        assert got[k].shape == np_grads[k].shape
        np.testing.assert_allclose(got[k], np_grads[k], rtol=1e-8, atol=1e-14, err_msg=k)
    np.testing.assert_allclose(model[1].running_mean.numpy(), net.bn["running_mean"], rtol=1e-10)
    np.testing.assert_allclose(model[1].running_var.numpy(), net.bn["running_var"], rtol=1e-10)


def test_module_holds_copies():
    net, _, _ = _trained_net()
    before = {k: v.copy() for k, v in net.params.items()}
    model = to_torch_module(net.params, net.bn)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    assert all(np.array_equal(before[k], net.params[k]) for k in before)


def test_grads_are_new_arrays():
    net, X, y = _trained_net()
    model = to_torch_module(net.params, net.bn, dropout=0.0)
    F.cross_entropy(model(torch.tensor(X)), torch.tensor(y)).backward()
    g = grads_to_numpy(model)
    g["W1"][...] = 0.0
    assert model[0].weight.grad.abs().sum() > 0


def test_train_step_against_a_step_by_hand():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)).double()
    weights = [p.detach().clone() for p in model.parameters()]
    xb, yb = torch.randn(6, 5, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    opt.zero_grad()
    (model(xb).sum() * 0).backward()
    for p in model.parameters():
        p.grad.fill_(3.0)  # stale gradients: the step must clear them

    def by_hand(ws):
        h = torch.relu(xb @ ws[0].T + ws[1])
        return F.cross_entropy(h @ ws[2].T + ws[3], yb)

    ws = [w.clone().requires_grad_(True) for w in weights]
    loss = by_hand(ws)
    grads = torch.autograd.grad(loss, ws)
    norm = float(torch.sqrt(sum((g**2).sum() for g in grads)))
    scale = min(1.0, 0.25 / (norm + 1e-6))
    got_loss, got_norm = train_step(model, opt, xb, yb, max_norm=0.25)
    assert got_loss == pytest.approx(float(loss), rel=1e-12)
    assert got_norm == pytest.approx(norm, rel=1e-12)
    for p, w, g in zip(model.parameters(), weights, grads):
        torch.testing.assert_close(p.detach(), w - 0.5 * scale * g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("exercise, fn", [("bridge.to_torch_module", to_torch_module),
                                          ("bridge.grads_to_numpy", grads_to_numpy),
                                          ("bridge.train_step", train_step)])
def test_references_pass(exercise, fn):
    assert check(exercise, fn, record=False).passed


def test_float32_module_is_named():
    def single(params, bn, dropout=0.2):
        return to_torch_module(params, bn, dropout).float()

    r = check("bridge.to_torch_module", single, record=False)
    assert "dtype" in r.diagnosis_names and ".double()" in str(r)


def test_shared_memory_is_named():
    def views(params, bn, dropout=0.2):
        model = to_torch_module(params, bn, dropout)
        model[0].bias = torch.nn.Parameter(torch.from_numpy(params["b1"]))
        return model

    r = check("bridge.to_torch_module", views, record=False)
    assert "shares_memory" in r.diagnosis_names


def test_without_torch_the_check_says_which_extra(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    r = check("bridge.train_step", train_step, record=False)
    assert not r.passed and r.diagnosis_names == ["needs_extra"]
    assert 'pip install "backprop-course[torch]"' in str(r)


def test_needs_extra_replaces_the_error_when_the_package_is_missing(capsys):
    with needs_extra("torch", module="a_module_that_is_not_installed"):
        raise AttributeError("'NoneType' object has no attribute 'nn'")
    assert capsys.readouterr().out.strip() == extra_message("torch")


def test_needs_extra_lets_errors_through_when_present():
    with pytest.raises(ZeroDivisionError):
        with needs_extra("torch"):
            raise ZeroDivisionError("division by zero")
