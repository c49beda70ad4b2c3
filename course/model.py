"""A multilayer perceptron built from the functional layers in :mod:`course.layers`.

``MLP([D, H1, ..., C])`` stacks L = len(sizes) - 1 linear layers. Each hidden layer l = 1 .. L-1
computes, from the previous layer's output h (h_0 = x):

    z   = h @ W_l + b_l                 linear
    z   = batchnorm(z; gamma_l, beta_l) only with batchnorm=True
    a   = activation(z)
    a   = dropout(a, p)                 only with dropout=p > 0 (p is the DROP probability)
    h_l = a   (or h + a with residual=True, from the second hidden layer on)

and the last layer gives the scores ``h_{L-1} @ W_L + b_L`` (N, C), fed to softmax cross-entropy
(integer labels) or to the mean squared error (``loss="mse"``, float targets (N, C)).

The backward pass runs the same steps in reverse, each ``*_backward`` receiving the cache its
``*_forward`` returned. Parameters and gradients live in two dicts with the same keys
("W1", "b1", "gamma1", "beta1", ...), ready for ``course.optim``::

    model = MLP([784, 128, 10], seed=0)
    opt = course.optim.Adam(model.params, lr=1e-3)
    loss, grads = model.loss(x, y)      # forward + backward
    opt.step(grads)                     # updates model.params in place
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import init as initializers
from .backend import current, namespace
from .layers import (
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    leaky_relu_backward,
    leaky_relu_forward,
    linear_backward,
    linear_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .losses import mse_loss, softmax_cross_entropy
from .validation import check_ndim, check_shape, choice, float_array, int_labels

__all__ = ["MLP"]


def _relu_forward(z):
    """ReLU as in :func:`course.layers.relu_forward` (same values), tuned for the model's hot path.

    ``maximum(z, 0)`` is several times faster than ``where`` on random signs, and the cache is
    the OUTPUT, which is all the backward needs (out > 0 exactly where z > 0): the
    pre-activation z can then be freed, as autograd frameworks do.
    """
    out = namespace(z).maximum(z, 0)
    return out, out


def _relu_backward(dout, out):
    """dx = dout where out > 0, else 0 (equal to :func:`course.layers.relu_backward`)."""
    return dout * (out > 0)


_ACTIVATIONS = {
    "relu": (_relu_forward, _relu_backward),
    "leaky_relu": (leaky_relu_forward, leaky_relu_backward),
    "tanh": (tanh_forward, tanh_backward),
    "sigmoid": (sigmoid_forward, sigmoid_backward),
}
_INITS = ("he", "he_uniform", "xavier", "xavier_uniform", "pytorch")
_LOSSES = ("cross_entropy", "mse")
_STAT_KEYS = ("act_mean", "act_std", "act_frac_zero", "grad_h_std", "grad_W_norm")


class MLP:
    """A fully connected network: sizes = [D, H1, ..., C].

    Arguments:
    - sizes: layer widths, input first, output last (at least 2 entries).
    - activation: "relu", "leaky_relu" (slope 0.01), "tanh" or "sigmoid", for every hidden layer.
    - init: how to draw the weights (biases start at 0; gamma at 1 and beta at 0):
      "he" (kaiming_normal with the activation's gain, the default), "he_uniform",
      "xavier" (xavier_normal, gain 1), "xavier_uniform", "pytorch" (nn.Linear's default,
      U(-1/sqrt(fan_in), 1/sqrt(fan_in))), or a number s: W ~ N(0, s**2) (try 0.01 and 1.0 in
      the vanishing/exploding-gradient lesson). The same rule is used for every layer.
    - batchnorm: batch normalisation after each hidden linear layer (PyTorch's BatchNorm1d
      semantics; running statistics in ``bn_params``).
    - dropout: the DROP probability p of each hidden layer's output (PyTorch's convention).
    - residual: skip connections h_l = h_{l-1} + block(h_{l-1}) around hidden layers 2 .. L-1;
      needs at least two hidden layers, all of the same width.
    - loss: "cross_entropy" (y: (N,) integer labels) or "mse" (y: (N, C) float targets).
    - dtype: "float64" (default) or "float32"; inputs are converted to it.
    - seed: an integer or a ``numpy.random.Generator``; it draws the weights and, afterwards,
      the dropout masks (unless ``forward`` gets its own ``rng``).
    - track_stats: record per-layer statistics in ``stats`` at each forward/backward (costs a
      few passes over the activations; off by default).

    Attributes: ``params`` and ``grads`` (dicts of arrays, same keys), ``bn_params`` (one dict
    per hidden layer), ``stats`` (a dict of lists, one entry per layer 1 .. L, see
    :meth:`forward` and :meth:`backward`), ``sizes``, ``num_layers`` (L).
    """

    def __init__(
        self,
        sizes,
        activation="relu",
        init="he",
        batchnorm=False,
        dropout=0.0,
        residual=False,
        loss="cross_entropy",
        dtype="float64",
        seed=0,
        track_stats=False,
    ):
        fn = "MLP"
        sizes = list(sizes) if isinstance(sizes, (list, tuple)) else sizes
        if not isinstance(sizes, list) or len(sizes) < 2:
            raise ValueError(
                f"{fn}: sizes must be a list [D, H1, ..., C] of at least 2 widths, got {sizes!r}"
            )
        for i, s in enumerate(sizes):
            if not isinstance(s, numbers.Integral) or isinstance(s, bool) or s < 1:
                raise ValueError(f"{fn}: sizes[{i}] must be a positive integer, got {s!r}")
        choice("activation", activation, tuple(_ACTIVATIONS), fn=fn)
        choice("loss", loss, _LOSSES, fn=fn)
        if not (isinstance(init, str) or isinstance(init, numbers.Real) and init > 0):
            raise ValueError(f"{fn}: init must be one of {_INITS} or a positive std, got {init!r}")
        if isinstance(init, str):
            choice("init", init, _INITS, fn=fn)
        is_number = isinstance(dropout, numbers.Real) and not isinstance(dropout, bool)
        if not is_number or not 0 <= dropout < 1:
            raise ValueError(
                f"{fn}: dropout (the probability of DROPPING a unit) must be in [0, 1), "
                f"got {dropout!r}"
            )
        hidden = [int(s) for s in sizes[1:-1]]
        if residual and (len(hidden) < 2 or len(set(hidden)) != 1):
            raise ValueError(
                f"{fn}: residual=True adds skip connections between hidden layers of equal width, "
                f"so it needs at least two hidden layers, all of one width; got hidden widths "
                f"{tuple(hidden)}"
            )
        xp = current()
        self.dtype = initializers._dtype(xp, dtype, fn)
        self.sizes = [int(s) for s in sizes]
        self.num_layers = len(sizes) - 1
        self.activation = activation
        self.batchnorm = bool(batchnorm)
        self.dropout = float(dropout)
        self.residual = bool(residual)
        self.loss_name = loss
        self.track_stats = bool(track_stats)
        self.rng = initializers.as_generator(seed, fn=fn)

        self.params = {}
        for l in range(1, self.num_layers + 1):
            fan_in, fan_out = self.sizes[l - 1], self.sizes[l]
            self.params[f"W{l}"] = self._init_weight(init, fan_in, fan_out)
            self.params[f"b{l}"] = xp.zeros((fan_out,), dtype=self.dtype)
            if self.batchnorm and l < self.num_layers:
                self.params[f"gamma{l}"] = xp.ones((fan_out,), dtype=self.dtype)
                self.params[f"beta{l}"] = xp.zeros((fan_out,), dtype=self.dtype)
        self.bn_params = [{} for _ in hidden] if self.batchnorm else []
        self.grads = {}
        self.dx = None
        self.stats = {key: [] for key in _STAT_KEYS}
        self._caches = None

    def _init_weight(self, init, fan_in, fan_out):
        kw = {"rng": self.rng, "dtype": self.dtype}
        if init == "he":
            return initializers.kaiming_normal(fan_in, fan_out, nonlinearity=self.activation, **kw)
        if init == "he_uniform":
            return initializers.kaiming_uniform(fan_in, fan_out, nonlinearity=self.activation, **kw)
        if init == "xavier":
            return initializers.xavier_normal(fan_in, fan_out, **kw)
        if init == "xavier_uniform":
            return initializers.xavier_uniform(fan_in, fan_out, **kw)
        if init == "pytorch":
            return initializers.kaiming_uniform(
                fan_in, fan_out, a=math.sqrt(5), nonlinearity="leaky_relu", **kw
            )
        w = self.rng.normal(0.0, float(init), size=(fan_in, fan_out))
        return current().asarray(w, dtype=self.dtype)

    # ------------------------------------------------------------------ forward / backward

    def _input(self, x, fn):
        x = float_array("x", x, fn=fn)
        xp = namespace(x)
        check_ndim("x", x, 2, "(N, D)", fn=fn)
        D = self.sizes[0]
        check_shape("x", x, (None, D), "(N, D)", fn=fn, why="(D = the model's input size)")
        if x.dtype != self.dtype:
            x = xp.astype(x, self.dtype)
        return x

    def _train_flag(self, train, fn):
        if not isinstance(train, bool):
            raise TypeError(f"{fn}: train must be True or False, got {train!r}")
        return train

    def _generator(self, rng, fn):
        return self.rng if rng is None else initializers.as_generator(rng, fn=fn)

    def forward(self, x, train=True, rng=None):
        """Scores (N, C) for inputs x (N, D).

        - train: True uses batch statistics (updating the running ones) and dropout;
          False uses the running statistics and no dropout.
        - rng: Generator or seed for this call's dropout masks (default: the model's own
          generator). Passing the same seed twice gives the same masks, which makes the
          forward pass a fixed function of the parameters for gradient checking.

        Keeps the caches for :meth:`backward`. With ``track_stats``, records for each layer
        l = 1 .. L the mean, std and fraction of exact zeros of its output h_l (the scores for
        the last layer) in ``stats["act_mean"]``, ``["act_std"]``, ``["act_frac_zero"]``.
        """
        fn = "MLP.forward"
        x = self._input(x, fn)
        return self._forward(x, self._train_flag(train, fn), self._generator(rng, fn))

    def _forward(self, x, train, gen):
        """The forward pass proper, for checked inputs (see :meth:`forward`)."""
        self._caches = None  # free the previous pass's activations before making new ones
        act_forward = _ACTIVATIONS[self.activation][0]
        L = self.num_layers
        if self.track_stats:
            self.stats = {key: [] for key in _STAT_KEYS}
        caches = []
        h = x
        for l in range(1, L + 1):
            z, linear_cache = linear_forward(h, self.params[f"W{l}"], self.params[f"b{l}"])
            if l == L:  # the scores: no normalisation, activation or dropout
                caches.append((linear_cache, None, None, None))
                h = z
                self._record_activation(h)
                break
            bn_cache = dropout_cache = None
            if self.batchnorm:
                bn_param = self.bn_params[l - 1]
                bn_param["mode"] = "train" if train else "eval"
                z, bn_cache = batchnorm_forward(
                    z, self.params[f"gamma{l}"], self.params[f"beta{l}"], bn_param
                )
            a, act_cache = act_forward(z)
            if self.dropout > 0:
                a, dropout_cache = dropout_forward(a, self.dropout, train=train, rng=gen)
            if self.residual and l >= 2:
                a = h + a
            caches.append((linear_cache, bn_cache, act_cache, dropout_cache))
            h = a
            self._record_activation(h)
        self._caches = caches
        return h

    def backward(self, dout, input_grad=False):
        """Backpropagate dout = dL/dscores (N, C) through the last forward pass.

        Fills ``grads`` (same keys as ``params``) and returns it. ``grads`` is the model's own
        dict, refilled with new arrays by every backward: copy it to keep one step's values.
        Each layer's cache is dropped once used, freeing the activations as autograd
        frameworks do, so one forward allows one backward.

        The gradient with respect to the input x is computed only with ``input_grad=True``
        (kept in ``dx``; otherwise ``dx`` is None): training does not need it, and skipping it
        saves an (N, D) x (D, H1) product, as autograd frameworks do.

        With ``track_stats``, records for each layer l = 1 .. L the std of dL/dh_l (the gradient
        arriving at the layer's output) in ``stats["grad_h_std"]`` and the norm of dL/dW_l in
        ``stats["grad_W_norm"]``.
        """
        fn = "MLP.backward"
        if not self._caches:
            raise RuntimeError(f"{fn}: call forward before backward (once per forward)")
        x = self._caches[0][0][0]  # the input, from the first linear layer's cache
        dout = float_array("dout", dout, fn=fn, like=x)
        N, C = x.shape[0], self.sizes[-1]
        check_shape("dout", dout, (N, C), "(N, C)", fn=fn, why="like the scores")
        return self._backward(dout, input_grad)

    def _backward(self, dout, input_grad):
        """The backward pass proper, for a checked dout (see :meth:`backward`)."""
        act_backward = _ACTIVATIONS[self.activation][1]
        L = self.num_layers
        caches, self._caches = self._caches, None
        grads = self.grads  # refilled in place: the previous arrays are freed layer by layer
        grad_h_std, grad_W_norm = [], []
        dh = dout  # dL/dh_l, starting with the scores h_L
        for l in range(L, 0, -1):
            self._record_gradient(grad_h_std, dh)
            linear_cache, bn_cache, act_cache, dropout_cache = caches.pop()
            if l == L:
                dz = dh
            else:
                da = dh
                if dropout_cache is not None:
                    da = dropout_backward(da, dropout_cache)
                dz = act_backward(da, act_cache)
                if bn_cache is not None:
                    dz, grads[f"gamma{l}"], grads[f"beta{l}"] = batchnorm_backward(dz, bn_cache)
            if l > 1 or input_grad:
                dh_prev, grads[f"W{l}"], grads[f"b{l}"] = linear_backward(dz, linear_cache)
            else:  # the input needs no gradient: only dW and db
                x = linear_cache[0]
                grads[f"W{l}"], grads[f"b{l}"] = x.T @ dz, namespace(dz).sum(dz, axis=0)
                dh_prev = None
            if self.residual and 2 <= l < L:
                dh_prev = dh_prev + dh  # the skip connection passes dh straight through
            self._record_gradient(grad_W_norm, grads[f"W{l}"], norm=True)
            dh = dh_prev
        self.dx = dh
        if self.track_stats:
            self.stats["grad_h_std"] = grad_h_std[::-1]
            self.stats["grad_W_norm"] = grad_W_norm[::-1]
        return grads

    def _record_activation(self, h):
        if self.track_stats:
            xp = namespace(h)
            self.stats["act_mean"].append(float(xp.mean(h)))
            self.stats["act_std"].append(float(xp.std(h)))
            self.stats["act_frac_zero"].append(float(xp.mean(xp.astype(h == 0, h.dtype))))

    def _record_gradient(self, values, g, norm=False):
        if self.track_stats:
            xp = namespace(g)
            values.append(float(xp.sqrt(xp.sum(g * g))) if norm else float(xp.std(g)))

    # ------------------------------------------------------------------ loss and prediction

    def loss(self, x, y, train=True, rng=None):
        """Forward, loss and backward in one call: returns ``(loss, grads)``.

        - x: (N, D); y: (N,) integer labels in [0, C) for "cross_entropy", or (N, C) float
          targets for "mse". train and rng as in :meth:`forward`. The loss is the batch mean.
        """
        fn = "MLP.loss"
        x = self._input(x, fn)
        N, C = x.shape[0], self.sizes[-1]
        if self.loss_name == "cross_entropy":
            y = int_labels("y", y, C, N, fn=fn, like=x)
        else:
            y = float_array("y", y, fn=fn, like=x)
            check_shape("y", y, (N, C), "(N, C)", fn=fn, why="(one target per score)")
        scores = self._forward(x, self._train_flag(train, fn), self._generator(rng, fn))
        if self.loss_name == "cross_entropy":
            loss, dscores = softmax_cross_entropy(scores, y)
        else:
            loss, dscores = mse_loss(scores, y)
        return loss, self._backward(dscores, input_grad=False)

    def predict(self, x):
        """Predictions in eval mode (running batch-norm statistics, no dropout).

        Returns class indices (N,) = argmax of the scores for "cross_entropy", the outputs
        (N, C) themselves for "mse".
        """
        scores = self.forward(x, train=False)
        if self.loss_name == "mse":
            return scores
        return namespace(scores).argmax(scores, axis=1)

    def __repr__(self):
        extras = [f"activation={self.activation!r}"]
        if self.batchnorm:
            extras.append("batchnorm=True")
        if self.dropout:
            extras.append(f"dropout={self.dropout}")
        if self.residual:
            extras.append("residual=True")
        n = sum(int(np.prod(p.shape)) for p in self.params.values())
        return f"MLP({self.sizes}, {', '.join(extras)}; {n} parameters)"
