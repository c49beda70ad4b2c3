"""Autograd diagnoses by designed graphs (course.grader.compare.faults.autograd, probes.value_probe): a
learner's Value with one fault planted; the message names the op and the fault."""

import math

import pytest

from course.autograd import Value
from course.grader import check


@pytest.fixture(autouse=True)
def _progress_off(monkeypatch):
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def said(result, name):
    assert name in result.diagnosis_names, str(result)
    return " ".join(d.message for c in result.cases for d in c.diagnoses if d.name == name)


def value_with(op, backward_rule):
    """The course's Value with one unary op whose local rule is ``backward_rule(a, out) -> grad``."""

    class Mine(Value):
        pass

    def method(self):
        fn = {"exp": math.exp, "tanh": math.tanh, "log": math.log}[op]
        out = Mine(fn(self.data), (self,), op)

        def _backward():
            self.grad += backward_rule(self, out)

        out._backward = _backward
        return out

    setattr(Mine, op, method)
    return Mine


def test_upstream_gradient_ignored():
    Mine = value_with("exp", lambda a, out: out.data)  # no * out.grad
    msg = said(check("autograd.value_exp", Mine), "ignores_upstream")
    assert "ignores out.grad" in msg and "exp(a)" in msg


def test_input_used_where_the_output_belongs():
    Mine = value_with("tanh", lambda a, out: (1 - a.data**2) * out.grad)
    assert "1 - out.data**2" in said(check("autograd.value_tanh", Mine), "tanh_uses_input")


def test_log_divided_by_the_output():
    Mine = value_with("log", lambda a, out: out.grad / out.data)
    assert "1 / a" in said(check("autograd.value_log", Mine), "log_uses_output")


def test_sign_of_the_second_operand():
    class Mine(Value):
        def __sub__(self, other):
            other = other if isinstance(other, Value) else Mine(other)
            out = Mine(self.data - other.data, (self, other), "-")

            def _backward():
                self.grad += out.grad
                other.grad += out.grad

            out._backward = _backward
            return out

    assert "sign" in said(check("autograd.value_neg_sub", Mine), "sub_swapped" if False else "sub_sign")


def test_a_detached_result():
    class Mine(Value):
        def __neg__(self):
            return Mine(-self.data)

    assert "not connected to the graph" in said(check("autograd.value_neg_sub", Mine), "detached")


def test_backward_names_the_op_at_fault():
    class Mine(Value):
        def __mul__(self, other):
            other = other if isinstance(other, Value) else Mine(other)
            out = Mine(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += other.data  # forgot out.grad
                other.grad += self.data

            out._backward = _backward
            return out

    msg = said(check("autograd.backward", Mine), "ignores_upstream")
    assert "a * b" in msg and "probed alone" in msg


class Small:
    """A learner's own small Value (+, *, tanh), with a breadth-first backward()."""

    def __init__(self, data, _children=()):
        self.data, self.grad, self._prev, self._backward = float(data), 0.0, tuple(_children), lambda: None

    def _op(self, other, data, da, db):
        other = other if isinstance(other, Small) else Small(other)
        out = Small(data(self.data, other.data), (self, other))

        def _backward():
            self.grad += da(self.data, other.data) * out.grad
            other.grad += db(self.data, other.data) * out.grad

        out._backward = _backward
        return out

    def __add__(self, o):
        return self._op(o, lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0)

    def __mul__(self, o):
        return self._op(o, lambda a, b: a * b, lambda a, b: b, lambda a, b: a)

    __radd__, __rmul__ = __add__, __mul__

    def tanh(self):
        out = Small(math.tanh(self.data), (self,))

        def _backward():
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, queue, seen = [], [self], {id(self)}
        while queue:  # breadth-first: a node may run before all its uses have added their part
            v = queue.pop(0)
            order.append(v)
            for c in v._prev:
                if id(c) not in seen:
                    seen.add(id(c))
                    queue.append(c)
        self.grad = 1.0
        for v in order:
            v._backward()


def test_backward_breadth_first_order():
    msg = said(check("autograd.backward", Small), "call_order")
    assert "breadth-first" in msg and "skip connection" in msg


def test_root_grad_and_order_not_both_claimed():
    class Mine(Value):
        def backward(self):
            order, seen = [], set()

            def build(v):
                if id(v) not in seen:
                    seen.add(id(v))
                    order.append(v)  # pre-order: a node before its inputs
                    for c in v._prev:
                        build(c)

            build(self)
            self.grad = 1.0
            for v in reversed(order):
                v._backward()

    names = check("autograd.backward", Mine).diagnosis_names
    assert not {"root_grad", "backward_order"} <= set(names), names
