"""The scalar autograd engine: the course's worked example, every op vs finite differences,
accumulation for reused nodes, zero_grad, deep graphs, and the graph drawing."""

import math

import pytest

from course.autograd import Value, draw_graph, topological_order


def test_worked_example_sigmoid_neuron():
    x, w, b = Value(1.0, label="x"), Value(0.5, label="w"), Value(0.5, label="b")
    y = (w * x + b).sigmoid()
    y.backward()
    s = 1 / (1 + math.exp(-1.0))
    assert y.data == pytest.approx(s)
    assert round(w.grad, 4) == 0.1966
    assert w.grad == pytest.approx(s * (1 - s) * 1.0)
    assert b.grad == pytest.approx(s * (1 - s))
    assert x.grad == pytest.approx(s * (1 - s) * 0.5)


EXPRESSIONS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**3 + b**-2,
    "number_on_left": lambda a, b: 2.0 - a * 3 + 1 / b,
    "exp_log": lambda a, b: (a * b).exp() + (b * b).log(),
    "tanh": lambda a, b: (a - b).tanh(),
    "sigmoid": lambda a, b: (a * b).sigmoid(),
    "relu": lambda a, b: (a - 2 * b).relu() + (b - a).relu(),
    "reuse": lambda a, b: a * a + a * b * a,
    "neuron": lambda a, b: (a * 0.7 + b * -1.3 + 0.1).tanh() * a,
}


def _numeric(f, a, b, h=1e-6):
    fa = (f(Value(a + h), Value(b)).data - f(Value(a - h), Value(b)).data) / (2 * h)
    fb = (f(Value(a), Value(b + h)).data - f(Value(a), Value(b - h)).data) / (2 * h)
    return fa, fb


@pytest.mark.parametrize("name", EXPRESSIONS)
@pytest.mark.parametrize("a,b", [(0.8, 1.7), (-1.3, 0.6), (2.2, -0.9)])
def test_gradients_match_finite_differences(name, a, b):
    f = EXPRESSIONS[name]
    A, B = Value(a), Value(b)
    out = f(A, B)
    out.backward()
    na, nb = _numeric(f, a, b)
    assert A.grad == pytest.approx(na, rel=1e-6, abs=1e-8)
    assert B.grad == pytest.approx(nb, rel=1e-6, abs=1e-8)


def test_node_used_twice_accumulates():
    a = Value(3.0)
    y = a + a
    y.backward()
    assert a.grad == 2.0
    b = Value(-2.0)
    z = b * b * b  # 3 b^2 = 12
    z.backward()
    assert b.grad == pytest.approx(12.0)


def test_zero_grad_resets_whole_graph():
    a, b = Value(2.0), Value(3.0)
    c = a * b + a
    c.backward()
    assert a.grad == pytest.approx(4.0)
    c.backward()  # without zero_grad, a second pass adds on top of stale grads
    assert a.grad != pytest.approx(4.0)
    c.zero_grad()
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)
    c.backward()
    assert a.grad == pytest.approx(4.0) and b.grad == pytest.approx(2.0)


def test_topological_order_puts_inputs_first_and_handles_deep_graphs():
    x = Value(1.0)
    y = x
    for _ in range(5000):  # deeper than Python's default recursion limit
        y = y * 1.0 + 0.0
    order = topological_order(y)
    assert order[0] is x and order[-1] is y
    position = {id(n): i for i, n in enumerate(order)}
    assert all(position[id(c)] < position[id(n)] for n in order for c in n._prev)
    y.backward()
    assert x.grad == pytest.approx(1.0)


def test_stable_sigmoid_and_bad_input():
    assert Value(-1000.0).sigmoid().data == pytest.approx(0.0)
    assert Value(1000.0).sigmoid().data == 1.0
    with pytest.raises(ValueError, match="Value.log: the input must be > 0"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="data must be a real number"):
        Value("3")
    with pytest.raises(TypeError, match="exponent must be a plain int or float"):
        Value(2.0) ** Value(2.0)


def test_draw_graph_shows_every_node():
    import matplotlib

    matplotlib.use("Agg")
    x, w, b = Value(1.0, label="x"), Value(0.5, label="w"), Value(0.5, label="b")
    y = (w * x + b).sigmoid()
    y.label = "y"
    y.backward()
    ax = draw_graph(y)
    texts = [t.get_text() for t in ax.texts]
    assert sum("data" in t for t in texts) == len(topological_order(y)) == 6
    assert any(t.startswith("w | data 0.5") and "grad 0.1966" in t for t in texts)
    assert {"*", "+", "sigmoid"} <= set(texts)
    import matplotlib.pyplot as plt

    plt.close("all")
