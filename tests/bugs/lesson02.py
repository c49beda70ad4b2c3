"""Lesson 02 (a scalar autograd engine): a learner's micrograd-style Value, with one bug at a time."""

import math


def make_value(bug=""):
    """A learner's Value class; ``bug`` switches on one realistic mistake."""

    class Value:
        def __init__(self, data, _children=(), _op=""):
            self.data = data
            self.grad = 0.0
            self._prev = set(_children)
            self._op = _op
            self._backward = lambda: None

        def _wrap(self, other):
            if bug == "no_wrap":
                return other
            return other if isinstance(other, Value) else Value(other)

        def __add__(self, other):
            other = self._wrap(other)
            out = Value(self.data + other.data, (self, other), "+")

            def _backward():
                if bug == "add_set":
                    self.grad = out.grad
                    other.grad = out.grad
                elif bug == "add_one":
                    self.grad += 1.0
                    other.grad += 1.0
                else:
                    self.grad += out.grad
                    other.grad += out.grad

            out._backward = _backward
            return out

        def __mul__(self, other):
            other = self._wrap(other)
            out = Value(self.data * other.data, (self, other), "*")

            def _backward():
                if bug == "mul_grad_not_data":
                    self.grad += other.grad * out.grad
                    other.grad += self.grad * out.grad
                elif bug == "mul_no_upstream":
                    self.grad += other.data
                    other.grad += self.data
                elif bug == "mul_swapped":
                    self.grad += self.data * out.grad
                    other.grad += other.data * out.grad
                else:
                    self.grad += other.data * out.grad
                    other.grad += self.data * out.grad

            out._backward = _backward
            return out

        def __pow__(self, k):
            out = Value(self.data**k, (self,), f"**{k}")

            def _backward():
                if bug == "pow_k":
                    self.grad += k * self.data**k * out.grad
                elif bug == "pow_no_upstream":
                    self.grad += k * self.data ** (k - 1)
                else:
                    self.grad += k * self.data ** (k - 1) * out.grad

            out._backward = _backward
            return out

        def __neg__(self):
            if bug == "neg_detached":
                return Value(-self.data)
            return self * -1

        def __sub__(self, other):
            if bug == "sub_sign":
                other = self._wrap(other)
                out = Value(self.data - other.data, (self, other), "-")

                def _backward():
                    self.grad += out.grad
                    other.grad += out.grad

                out._backward = _backward
                return out
            if bug == "sub_direct":  # correct: subtraction written out
                other = self._wrap(other)
                out = Value(self.data - other.data, (self, other), "-")

                def _backward():
                    self.grad += out.grad
                    other.grad -= out.grad

                out._backward = _backward
                return out
            return self + (-self._wrap(other))

        def __truediv__(self, other):
            other = self._wrap(other)
            if bug in ("div_sign", "div_no_upstream"):
                out = Value(self.data / other.data, (self, other), "/")

                def _backward():
                    if bug == "div_sign":
                        self.grad += out.grad / other.data
                        other.grad += self.data / other.data**2 * out.grad
                    else:
                        self.grad += 1 / other.data
                        other.grad += -self.data / other.data**2 * out.grad

                out._backward = _backward
                return out
            return self * other**-1

        def __radd__(self, other):
            return self + other

        def __rmul__(self, other):
            return self * other

        def __rsub__(self, other):
            if bug == "rsub_as_sub":
                return self - other
            return self._wrap(other) - self

        def __rtruediv__(self, other):
            if bug == "rdiv_as_div":
                return self / other
            return self._wrap(other) / self

        def exp(self):
            out = Value(math.exp(self.data), (self,), "exp")

            def _backward():
                if bug == "exp_uses_x":
                    self.grad += self.data * out.grad
                elif bug == "exp_set":
                    self.grad = out.data * out.grad
                else:
                    self.grad += out.data * out.grad

            out._backward = _backward
            return out

        def log(self):
            out = Value(math.log(self.data), (self,), "log")

            def _backward():
                if bug == "log_uses_out":
                    self.grad += out.grad / out.data
                elif bug == "log_no_upstream":
                    self.grad += 1 / self.data
                else:
                    self.grad += out.grad / self.data

            out._backward = _backward
            return out

        def tanh(self):
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward():
                if bug == "tanh_uses_x":
                    self.grad += (1 - self.data**2) * out.grad
                elif bug == "tanh_square_outside":
                    self.grad += (1 - t) ** 2 * out.grad
                else:
                    self.grad += (1 - t**2) * out.grad

            out._backward = _backward
            return out

        def sigmoid(self):
            s = 1 / (1 + math.exp(-self.data))
            out = Value(s, (self,), "sigmoid")

            def _backward():
                if bug == "sigmoid_uses_x":
                    self.grad += s * (1 - self.data) * out.grad
                elif bug == "sigmoid_no_upstream":
                    self.grad += s * (1 - s)
                else:
                    self.grad += s * (1 - s) * out.grad

            out._backward = _backward
            return out

        def relu(self):
            out = Value(max(self.data, 0.0), (self,), "relu")

            def _backward():
                if bug == "relu_out_data":
                    self.grad += out.data
                elif bug == "relu_no_upstream":
                    self.grad += float(self.data > 0)
                else:
                    self.grad += float(self.data > 0) * out.grad

            out._backward = _backward
            return out

        def backward(self):
            topo, seen = [], set()

            def build(v):
                if v in seen:
                    return
                seen.add(v)
                if bug == "preorder":
                    topo.append(v)
                for c in v._prev:
                    build(c)
                if bug != "preorder":
                    topo.append(v)

            build(self)
            if bug == "bfs":
                topo, queue, seen = [], [self], {self}
                while queue:
                    v = queue.pop(0)
                    topo.append(v)
                    for c in v._prev:
                        if c not in seen:
                            seen.add(c)
                            queue.append(c)
                topo.reverse()
            self.grad = 1.0
            for v in reversed(topo):
                v._backward()

    Value.__name__ = f"Value[{bug or 'correct'}]"
    return Value


def topo_preorder(root):
    order, seen = [], set()

    def visit(v):
        if id(v) in seen:
            return
        seen.add(id(v))
        order.append(v)
        for c in v._prev:
            visit(c)

    visit(root)
    return order


def topo_bfs_reversed(root):
    order, queue, seen = [], [root], {id(root)}
    while queue:
        v = queue.pop(0)
        order.append(v)
        for c in v._prev:
            if id(c) not in seen:
                seen.add(id(c))
                queue.append(c)
    return order[::-1]


def topo_iterative(root):  # correct, with an explicit stack
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, done = stack.pop()
        if done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((c, False) for c in v._prev)
    return order


V = make_value
BUGS = [
    ("autograd.value_add", V("add_set"), ("+=",), {}),
    ("autograd.value_add", V("add_one"), ("out.grad",), {}),
    ("autograd.value_add", V("no_wrap"), ("number",), {}),
    ("autograd.value_mul", V("mul_grad_not_data"), ("data",), {}),
    ("autograd.value_mul", V("mul_no_upstream"), ("out.grad",), {}),
    ("autograd.value_mul", V("mul_swapped"), ("other",), {}),
    ("autograd.value_pow", V("pow_k"), ("k - 1",), {}),
    ("autograd.value_pow", V("pow_no_upstream"), ("out.grad",), {}),
    ("autograd.value_neg_sub", V("neg_detached"), ("graph",), {}),
    ("autograd.value_neg_sub", V("sub_sign"), ("sign",), {}),
    ("autograd.value_div", V("div_sign"), ("sign",), {}),
    ("autograd.value_div", V("div_no_upstream"), ("out.grad",), {}),
    ("autograd.value_reverse_ops", V("rsub_as_sub"), ("__rsub__",), {}),
    ("autograd.value_reverse_ops", V("rdiv_as_div"), ("__rtruediv__",), {}),
    ("autograd.value_exp", V("exp_uses_x"), ("out.data",), {}),
    ("autograd.value_exp", V("exp_set"), ("+=",), {}),
    ("autograd.value_log", V("log_uses_out"), ("1 / a",), {}),
    ("autograd.value_log", V("log_no_upstream"), ("out.grad",), {}),
    ("autograd.value_tanh", V("tanh_uses_x"), ("out.data",), {}),
    ("autograd.value_tanh", V("tanh_square_outside"), ("tanh",), {}),
    ("autograd.value_sigmoid", V("sigmoid_uses_x"), ("out.data",), {}),
    ("autograd.value_sigmoid", V("sigmoid_no_upstream"), ("out.grad",), {}),
    ("autograd.value_relu", V("relu_out_data"), ("relu",), {}),
    ("autograd.value_relu", V("relu_no_upstream"), ("out.grad",), {}),
    ("autograd.backward", V("preorder"), ("order",), {}),
    ("autograd.backward", V("bfs"), ("order",), {}),
    ("autograd.backward", V("add_set"), ("+=",), {}),
    ("autograd.topological_order", topo_preorder, ("order",), {}),
    ("autograd.topological_order", topo_bfs_reversed, ("order",), {}),
]

CORRECT = [
    ("autograd.value_neg_sub", V("sub_direct"), {}),
    ("autograd.backward", V("sub_direct"), {}),
    ("autograd.topological_order", topo_iterative, {}),
]
