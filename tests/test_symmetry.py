"""distinct_hidden_units on hand-built layers, and on networks trained by PyTorch from a constant and a
random initialisation (the symmetry that a constant start never breaks)."""

import numpy as np
import pytest

from course.symmetry import distinct_hidden_units


def test_hand_built_layers():
    W1 = np.array([[1.0, 1.0, 2.0, 1.0], [0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 1.0, 0.0]])  # (D = 3, H = 4)
    b1 = np.array([0.1, 0.1, 0.1, 0.1])
    W2 = np.array([[1.0, -1.0], [1.0, -1.0], [1.0, -1.0], [3.0, -1.0]])  # unit 3: same input, other output
    assert distinct_hidden_units(W1, b1, W2) == 3
    b1[1] = 0.2  # unit 1 now has its own bias
    assert distinct_hidden_units(W1, b1, W2) == 4
    assert distinct_hidden_units(np.ones((5, 7)), np.zeros(7), np.ones((7, 2))) == 1


def test_tolerance_separates_rounding_from_learning():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(4)
    W1 = np.stack([w, w + 1e-13, w + 1e-3], axis=1)
    args = (W1, np.zeros(3), np.ones((3, 1)))
    assert distinct_hidden_units(*args) == 2
    assert distinct_hidden_units(*args, atol=0.0) == 3
    assert distinct_hidden_units(*args, atol=0.1) == 1


@pytest.mark.torch
@pytest.mark.parametrize("constant, expected", [(True, 1), (False, 6)])
def test_training_from_a_constant_keeps_one_unit(constant, expected):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3)).double()
    if constant:
        for p in net.parameters():
            torch.nn.init.constant_(p, 0.3)
    x, y = torch.randn(32, 4, dtype=torch.float64), torch.randint(0, 3, (32,))
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        opt.step()
    W1, b1, W2 = (p.detach().numpy() for p in (net[0].weight.T, net[0].bias, net[2].weight.T))
    assert distinct_hidden_units(W1, b1, W2) == expected
    assert distinct_hidden_units(net[0].weight.grad.T.numpy(), net[0].bias.grad.numpy(),
                                 net[2].weight.grad.T.numpy()) == expected


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"b1 .*\(H,\)"):
        distinct_hidden_units(np.ones((3, 4)), np.ones(3), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"W2 .*\(H, M\)"):
        distinct_hidden_units(np.ones((3, 4)), np.ones(4), np.ones((3, 2)))
    with pytest.raises(ValueError, match="atol"):
        distinct_hidden_units(np.ones((3, 4)), np.ones(4), np.ones((4, 2)), atol=-1.0)
