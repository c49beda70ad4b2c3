"""Magnitude pruning against PyTorch's ``prune.l1_unstructured`` and hand-computed cases."""

import numpy as np
import pytest

from course.pruning import magnitude_mask, masked_update, prune_params, sparsity


def test_hand_computed_mask_prunes_smallest_magnitudes():
    w = np.array([[0.5, -3.0, 0.1], [-0.2, 2.0, -0.05]])
    mask = magnitude_mask(w, 0.5)  # 3 of 6 pruned: |w| = 0.05, 0.1, 0.2
    np.testing.assert_array_equal(mask, [[True, True, False], [False, True, False]])
    assert magnitude_mask(w, 0.0).all() and not magnitude_mask(w, 1.0).any()


def test_ties_prune_exactly_k_first_in_flat_order():
    w = np.array([1.0, -1.0, 1.0, 2.0, -1.0, 3.0])  # four entries with |w| = 1
    mask = magnitude_mask(w, 0.5)  # k = 3: the first three of the tied ones
    np.testing.assert_array_equal(mask, [False, False, False, True, True, True])
    assert mask.sum() == 3


def test_rounding_of_the_count_is_half_to_even():
    w = np.arange(1.0, 11.0)
    assert (~magnitude_mask(w, 0.25)).sum() == round(2.5) == 2
    assert (~magnitude_mask(w, 0.35)).sum() == round(3.5) == 4


@pytest.mark.torch
@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 0.9, 0.97, 1.0])
def test_mask_matches_torch_l1_unstructured(amount):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import prune

    rng = np.random.default_rng(int(amount * 100))
    w = rng.standard_normal((7, 13))  # distinct magnitudes: no ties, torch's choice is unique
    layer = torch.nn.Linear(13, 7, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
    prune.l1_unstructured(layer, "weight", amount=amount)
    np.testing.assert_array_equal(magnitude_mask(w, amount), layer.weight_mask.numpy().astype(bool))


@pytest.mark.torch
def test_masked_training_keeps_zeros_like_torch_reparametrisation():
    """PyTorch computes weight = weight_orig * mask before each forward; SGD on weight_orig with
    a masked forward gives the same effective weights as masked_update."""
    torch = pytest.importorskip("torch")
    from torch.nn.utils import prune

    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((4, 6)), rng.standard_normal((5, 6))
    layer = torch.nn.Linear(6, 4, bias=False).double()
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w))
    prune.l1_unstructured(layer, "weight", amount=0.5)
    opt = torch.optim.SGD([layer.weight_orig], lr=0.1)
    mask = magnitude_mask(w, 0.5)
    mine = w * mask
    for _ in range(3):
        opt.zero_grad()
        (layer(torch.from_numpy(x)) ** 2).sum().backward()
        opt.step()
        # the gradient of sum((x @ W.T)**2) with respect to W
        g = 2 * (x @ mine.T).T @ x
        mine = masked_update(mine, g, mask, 0.1)
    effective = (layer.weight_orig * layer.weight_mask).detach().numpy()
    np.testing.assert_allclose(mine, effective, rtol=1e-12)


def test_masked_update_masks_weights_and_step_and_does_not_modify():
    w = np.array([1.0, 2.0, 3.0])
    g = np.array([1.0, 1.0, 1.0])
    mask = np.array([True, False, True])
    out = masked_update(w, g, mask, 0.5)
    np.testing.assert_array_equal(out, [0.5, 0.0, 2.5])
    np.testing.assert_array_equal(w, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="mask and w"):
        masked_update(w, g, mask[:2], 0.5)


def test_prune_params_and_sparsity():
    rng = np.random.default_rng(1)
    params = {"W1": rng.standard_normal((8, 5)), "b1": np.ones(5), "W2": rng.standard_normal((5, 3))}
    masks = prune_params(params, 0.8)
    assert set(masks) == {"W1", "W2"}
    assert (params["W1"] == 0).sum() == 32 and (params["W2"] == 0).sum() == 12
    assert sparsity(params) == pytest.approx(44 / 55)
    np.testing.assert_array_equal(params["b1"], 1.0)


def test_bad_sparsity_is_named():
    with pytest.raises(ValueError, match="sparsity"):
        magnitude_mask(np.ones(3), 1.5)
