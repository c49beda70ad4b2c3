"""A scalar automatic-differentiation engine: the chain rule, one node at a time.

Every :class:`Value` remembers the values it was computed from (``_prev``), the operation
that made it (``_op``) and a ``_backward`` closure that applies the chain rule locally:
given ``out.grad`` (dL/dout) it adds ``local derivative * out.grad`` to each input's grad.
:meth:`Value.backward` runs those closures in reverse topological order, so each node's
grad is complete before it is passed on. Grads *accumulate* (``+=``): a value used twice
receives both contributions.

Worked example from the course: x = 1, w = 0.5, b = 0.5, y = sigmoid(w*x + b)::

    x, w, b = Value(1.0), Value(0.5), Value(0.5)
    y = (w * x + b).sigmoid()
    y.backward()
    w.grad   # sigmoid(1) * (1 - sigmoid(1)) * x = 0.1966
"""

from __future__ import annotations

import math
import numbers

__all__ = ["Value", "topological_order", "draw_graph"]


class Value:
    """A scalar that records the computation graph it belongs to.

    Attributes: ``data`` (float), ``grad`` (float, dL/d this value after ``backward``),
    ``label`` (optional name for drawings), ``_prev`` (input Values), ``_op`` (e.g. "*").
    """

    def __init__(self, data, _children=(), _op="", label=""):
        if isinstance(data, Value):
            raise TypeError("Value(data): data must be a number, got a Value (use it directly)")
        if not isinstance(data, numbers.Real):
            raise TypeError(f"Value(data): data must be a real number, got {type(data).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._prev = tuple(_children)
        self._op = _op
        self._backward = lambda: None

    def __repr__(self):
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.6g}, grad={self.grad:.6g})"

    # -- binary operations -------------------------------------------------------------
    def __add__(self, other):
        other = _wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():  # d(a+b)/da = 1, d(a+b)/db = 1
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = _wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():  # d(ab)/da = b, d(ab)/db = a
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent):
        if not isinstance(exponent, (int, float)):
            raise TypeError("Value ** exponent: the exponent must be a plain int or float")
        out = Value(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward():  # d(a^k)/da = k a^(k-1)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1.0

    def __sub__(self, other):
        return self + (-_wrap(other))

    def __truediv__(self, other):
        return self * _wrap(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return _wrap(other) - self

    def __rtruediv__(self, other):
        return _wrap(other) / self

    # -- unary functions ---------------------------------------------------------------
    def exp(self):
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():  # d(e^a)/da = e^a
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self):
        if self.data <= 0:
            raise ValueError(f"Value.log: the input must be > 0, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward():  # d(log a)/da = 1/a
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self):
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward():  # d(tanh a)/da = 1 - tanh(a)^2
            self.grad += (1.0 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self):
        a = self.data
        s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        out = Value(s, (self,), "sigmoid")

        def _backward():  # d(sigmoid a)/da = s (1 - s)
            self.grad += out.data * (1.0 - out.data) * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,), "relu")

        def _backward():  # d(relu a)/da = 1 if a > 0 else 0
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad

        out._backward = _backward
        return out

    # -- the backward pass -------------------------------------------------------------
    def backward(self):
        """Fill ``grad`` of every node this value depends on with d(self)/d(node).

        Sets ``self.grad = 1`` (dself/dself) and applies each node's local chain rule in
        reverse topological order. Call :meth:`zero_grad` first if you run it twice.
        """
        order = topological_order(self)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self):
        """Reset ``grad`` to 0 on this value and everything it depends on."""
        for node in topological_order(self):
            node.grad = 0.0


def _wrap(x) -> Value:
    return x if isinstance(x, Value) else Value(x)


def topological_order(root: Value) -> list[Value]:
    """All nodes ``root`` depends on, each after all of its inputs (``root`` last).

    Iterative depth-first search, so deep graphs do not hit Python's recursion limit.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node._prev) if id(child) not in visited)
    return order


def draw_graph(root: Value, ax=None, *, show_grad: bool = True):
    """Draw the graph behind ``root`` with matplotlib: one box per value, one circle per op.

    Inputs sit on the left, ``root`` on the right; each box shows label, data and grad.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt

    order = topological_order(root)
    depth = {}
    for node in order:  # inputs come first, so their depth is known
        depth[id(node)] = 1 + max((depth[id(c)] for c in node._prev), default=-1)
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(depth[id(node)], []).append(node)
    pos = {}
    for d, nodes in columns.items():
        for i, node in enumerate(nodes):
            pos[id(node)] = (2.0 * d, -(i - (len(nodes) - 1) / 2.0) * 1.2)

    if ax is None:
        width = 2.2 * (max(columns) + 1)
        height = 1.2 * max(len(v) for v in columns.values()) + 1
        _, ax = plt.subplots(figsize=(min(width, 16), min(height, 10)))
    for node in order:
        x, y = pos[id(node)]
        if node._op:  # an op circle just left of the node it produced
            ox = x - 0.9
            ax.annotate("", xy=(x - 0.55, y), xytext=(ox + 0.2, y),
                        arrowprops=dict(arrowstyle="->", color="0.4"))
            ax.text(ox, y, node._op, ha="center", va="center", fontsize=9,
                    bbox=dict(boxstyle="round,pad=0.3", fc="#fde2c7", ec="0.4"))
            for child in node._prev:
                cx, cy = pos[id(child)]
                ax.annotate("", xy=(ox - 0.2, y), xytext=(cx + 0.55, cy),
                            arrowprops=dict(arrowstyle="->", color="0.4"))
        text = (f"{node.label} | " if node.label else "") + f"data {node.data:.4g}"
        if show_grad:
            text += f"\ngrad {node.grad:.4g}"
        ax.text(x, y, text, ha="center", va="center", fontsize=8,
                bbox=dict(boxstyle="round", fc="#dbeafe", ec="0.3"))
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    ax.set_xlim(min(xs) - 1.5, max(xs) + 1.0)
    ax.set_ylim(min(ys) - 1.0, max(ys) + 1.0)
    ax.set_axis_off()
    return ax
