"""course.layers.attention against PyTorch's scaled_dot_product_attention and MultiheadAttention,
and finite differences."""

import numpy as np
import pytest
from _fd import fd_check

from course.layers import (
    attention_backward,
    attention_forward,
    causal_mask,
    merge_heads,
    multihead_attention_backward,
    multihead_attention_forward,
    split_heads,
)
from course.layers.attention import MHA_PARAMS


def _mha_params(rng, E, scale=0.5):
    return {n: rng.standard_normal((E, E) if n[0] == "W" else E) * scale for n in MHA_PARAMS}


def _load_torch_mha(torch, mha, P):
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([P["Wq"].T, P["Wk"].T, P["Wv"].T])))
        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([P["bq"], P["bk"], P["bv"]])))
        mha.out_proj.weight.copy_(torch.from_numpy(P["Wo"].T.copy()))
        mha.out_proj.bias.copy_(torch.from_numpy(P["bo"]))


@pytest.mark.torch
@pytest.mark.parametrize("masked", ["none", "random", "causal"])
def test_attention_matches_torch_sdpa(masked):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 6, 4)), rng.standard_normal((2, 3, 6, 3))
    mask = None
    if masked == "random":
        mask = rng.random((5, 6)) > 0.4
        mask[:, 0] = True
    elif masked == "causal":
        mask = causal_mask(5, 6)
    qt, kt, vt = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    ot = torch.nn.functional.scaled_dot_product_attention(
        qt, kt, vt, attn_mask=None if mask is None else torch.from_numpy(mask))
    dout = rng.standard_normal(tuple(ot.shape))
    ot.backward(torch.from_numpy(dout))
    out, cache = attention_forward(q, k, v, mask)
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-12, atol=1e-13)
    for got, t in zip(attention_backward(dout, cache), (qt, kt, vt)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.torch
@pytest.mark.parametrize("causal", [False, True])
def test_multihead_attention_matches_torch(causal):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    N, T, E, h = 2, 5, 6, 3
    x, P = rng.standard_normal((N, T, E)), _mha_params(rng, E)
    mha = torch.nn.MultiheadAttention(E, h, batch_first=True, dtype=torch.float64)
    _load_torch_mha(torch, mha, P)
    mask = causal_mask(T) if causal else None
    xt = torch.tensor(x, requires_grad=True)
    # nn.MultiheadAttention's boolean mask is True where attention is NOT allowed: the opposite
    ot, _ = mha(xt, xt, xt, need_weights=False, attn_mask=None if mask is None else torch.from_numpy(~mask))
    dout = rng.standard_normal((N, T, E))
    ot.backward(torch.from_numpy(dout))
    out, cache = multihead_attention_forward(x, P, h, mask)
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-12, atol=1e-13)
    dx, g = multihead_attention_backward(dout, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12, atol=1e-13)
    W_in, b_in = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    for i, n in enumerate("qkv"):
        np.testing.assert_allclose(g["W" + n], W_in[i * E:(i + 1) * E].T, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(g["b" + n], b_in[i * E:(i + 1) * E], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(g["Wo"], mha.out_proj.weight.grad.numpy().T, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(g["bo"], mha.out_proj.bias.grad.numpy(), rtol=1e-12, atol=1e-13)


def test_attention_backward_matches_finite_differences_with_a_mask():
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))
    fd_check(attention_forward, attention_backward, (q, k, v), rng.standard_normal((2, 4, 2)),
             [(0, 0), (1, 1), (2, 2)], kwargs={"mask": causal_mask(4, 5)})


def test_multihead_backward_matches_finite_differences():
    rng = np.random.default_rng(3)
    x, P = rng.standard_normal((2, 3, 4)), _mha_params(rng, 4)
    out, cache = multihead_attention_forward(x, P, 2)
    dout = rng.standard_normal(out.shape)
    dx, g = multihead_attention_backward(dout, cache)
    fd_check(lambda x: multihead_attention_forward(x, P, 2), lambda d, c: (multihead_attention_backward(d, c)[0],),
             (x,), dout, [(0, 0)])
    for n in ("Wq", "bk", "Wv", "bo"):
        fd_check(lambda p, n=n: multihead_attention_forward(x, {**P, n: p}, 2),
                 lambda d, c, n=n: (multihead_attention_backward(d, c)[1][n],),
                 (P[n].copy(),), dout, [(0, 0)])


def test_causal_mask_blocks_the_future():
    rng = np.random.default_rng(4)
    q = k = v = rng.standard_normal((1, 4, 3))
    out, (_, _, _, P) = attention_forward(q, k, v, causal_mask(4))
    assert np.all(np.triu(P[0], 1) == 0) and np.allclose(P.sum(-1), 1)
    v2 = v.copy()
    v2[:, -1] += 100.0  # changing the last position changes nothing before it
    np.testing.assert_allclose(attention_forward(q, k, v2, causal_mask(4))[0][:, :-1], out[:, :-1])


def test_split_and_merge_heads():
    x = np.arange(2 * 3 * 6, dtype=float).reshape(2, 3, 6)
    heads = split_heads(x, 2)
    assert heads.shape == (2, 2, 3, 3)
    np.testing.assert_array_equal(heads[0, 1, 0], [3.0, 4.0, 5.0])  # head 1 = features 3..5
    np.testing.assert_array_equal(merge_heads(heads), x)


def test_attention_errors():
    with pytest.raises(ValueError, match=r"k .*\(\.\.\., Tk, d\)"):
        attention_forward(np.zeros((2, 3, 4)), np.zeros((2, 3, 5)), np.zeros((2, 3, 5)))
    with pytest.raises(ValueError, match=r"v .*\(\.\.\., Tk, dv\)"):
        attention_forward(np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 4, 2)))
    with pytest.raises(TypeError, match="boolean"):
        attention_forward(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)), mask=np.ones((3, 3)))
    with pytest.raises(ValueError, match="no key"):
        attention_forward(np.zeros((3, 4)), np.zeros((3, 4)), np.zeros((3, 4)), mask=np.zeros((3, 3), bool))
    with pytest.raises(ValueError, match="num_heads .*E = 6"):
        split_heads(np.zeros((1, 2, 6)), 4)
    with pytest.raises(ValueError, match=r'params\["Wq"\] .*\(E, E\)'):
        multihead_attention_forward(np.zeros((1, 2, 4)), {**_mha_params(np.random.default_rng(0), 4),
                                                           "Wq": np.zeros((3, 4))}, 2)
