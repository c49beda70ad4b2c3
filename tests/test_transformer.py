"""course.layers.transformer against torch.nn.TransformerEncoderLayer (post-LN, dropout 0) and
finite differences (with dropout on: the masks are drawn from the seed)."""

import numpy as np
import pytest
from _fd import fd_check

from course.layers import causal_mask, transformer_block_backward, transformer_block_forward
from course.layers.transformer import BLOCK_PARAMS


def _params(rng, E, Dff):
    P = {n: rng.standard_normal((E, E) if n[0] == "W" else E) * 0.5 for n in BLOCK_PARAMS[:8]}
    P.update(W1=rng.standard_normal((E, Dff)) * 0.5, b1=rng.standard_normal(Dff) * 0.1,
             W2=rng.standard_normal((Dff, E)) * 0.5, b2=rng.standard_normal(E) * 0.1)
    for i in "12":
        P["gamma" + i], P["beta" + i] = 1 + 0.1 * rng.standard_normal(E), 0.1 * rng.standard_normal(E)
    return P


@pytest.mark.torch
@pytest.mark.parametrize("causal", [False, True])
def test_block_matches_torch_encoder_layer(causal):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    N, T, E, h, Dff = 2, 5, 6, 3, 7
    x, P = rng.standard_normal((N, T, E)), _params(rng, E, Dff)
    layer = torch.nn.TransformerEncoderLayer(E, h, Dff, dropout=0.0, batch_first=True, norm_first=False,
                                             dtype=torch.float64)
    t = torch.from_numpy
    with torch.no_grad():
        sa = layer.self_attn
        sa.in_proj_weight.copy_(t(np.concatenate([P["Wq"].T, P["Wk"].T, P["Wv"].T])))
        sa.in_proj_bias.copy_(t(np.concatenate([P["bq"], P["bk"], P["bv"]])))
        sa.out_proj.weight.copy_(t(P["Wo"].T.copy()))
        sa.out_proj.bias.copy_(t(P["bo"]))
        for lin, W, b in ((layer.linear1, "W1", "b1"), (layer.linear2, "W2", "b2")):
            lin.weight.copy_(t(P[W].T.copy()))
            lin.bias.copy_(t(P[b]))
        for norm, i in ((layer.norm1, "1"), (layer.norm2, "2")):
            norm.weight.copy_(t(P["gamma" + i]))
            norm.bias.copy_(t(P["beta" + i]))
    mask = causal_mask(T) if causal else None
    xt = torch.tensor(x, requires_grad=True)
    # the encoder layer's boolean src_mask is True where attention is NOT allowed
    ot = layer(xt, src_mask=None if mask is None else t(~mask))
    dout = rng.standard_normal((N, T, E))
    ot.backward(t(dout))
    out, cache = transformer_block_forward(x, P, h, mask=mask)
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-11, atol=1e-12)
    dx, g = transformer_block_backward(dout, cache)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-11, atol=1e-12)
    torch_grads = {"W1": layer.linear1.weight.grad.T, "b1": layer.linear1.bias.grad,
                   "W2": layer.linear2.weight.grad.T, "b2": layer.linear2.bias.grad,
                   "gamma1": layer.norm1.weight.grad, "beta1": layer.norm1.bias.grad,
                   "gamma2": layer.norm2.weight.grad, "beta2": layer.norm2.bias.grad,
                   "Wq": sa.in_proj_weight.grad[:E].T, "Wo": sa.out_proj.weight.grad.T}
    for n, want in torch_grads.items():
        np.testing.assert_allclose(g[n], want.numpy(), rtol=1e-11, atol=1e-12, err_msg=n)


@pytest.mark.parametrize("p", [0.0, 0.3])
def test_block_backward_matches_finite_differences(p):
    rng = np.random.default_rng(1)
    x, P = rng.standard_normal((2, 3, 4)), _params(rng, 4, 5)
    kw = {"p": p, "rng": 7, "mask": causal_mask(3)}
    out, cache = transformer_block_forward(x, P, 2, **kw)
    dout = rng.standard_normal(out.shape)
    fd_check(lambda x: transformer_block_forward(x, P, 2, **kw),
             lambda d, c: (transformer_block_backward(d, c)[0],), (x,), dout, [(0, 0)])
    dx, g = transformer_block_backward(dout, cache)
    for n in ("Wk", "W1", "b2", "gamma1", "beta2"):
        fd_check(lambda a, n=n: transformer_block_forward(x, {**P, n: a}, 2, **kw),
                 lambda d, c, n=n: (transformer_block_backward(d, c)[1][n],), (P[n].copy(),), dout, [(0, 0)])


def test_eval_mode_drops_nothing_and_errors_are_named():
    rng = np.random.default_rng(2)
    x, P = rng.standard_normal((1, 3, 4)), _params(rng, 4, 5)
    a = transformer_block_forward(x, P, 2, p=0.5, train=False)[0]
    np.testing.assert_array_equal(a, transformer_block_forward(x, P, 2)[0])
    with pytest.raises(ValueError, match="missing.*W1"):
        transformer_block_forward(x, {k: v for k, v in P.items() if k != "W1"}, 2)
    with pytest.raises(ValueError, match=r"x .*\(N, T, E\)"):
        transformer_block_forward(x[0], P, 2)
