"""Lesson 09 (initialisation): the symmetry exercise, counting the distinct hidden units."""

import numpy as np


def _count(units, atol):
    firsts = []
    for j in range(len(units)):
        if not any(np.max(np.abs(units[j] - units[k])) <= atol for k in firsts):
            firsts.append(j)
    return len(firsts)


def units_rows_of_w1(W1, b1, W2, atol=1e-8):  # a unit taken as a ROW of W1 (an input, not a unit)
    return _count(W1, atol)


def units_incoming_only(W1, b1, W2, atol=1e-8):  # forgets the bias and the outgoing weights
    return _count(W1.T, atol)


def units_exact_equality(W1, b1, W2, atol=1e-8):  # np.unique: rounding makes every unit "different"
    return len(np.unique(np.concatenate([W1.T, b1[:, None], W2], axis=1), axis=0))


def units_without_a_twin(W1, b1, W2, atol=1e-8):  # counts the units that equal no other unit
    units = np.concatenate([W1.T, b1[:, None], W2], axis=1)
    H = len(units)
    return sum(all(np.max(np.abs(units[j] - units[k])) > atol for k in range(H) if k != j) for j in range(H))


def units_pairwise_matrix(W1, b1, W2, atol=1e-8):  # correct: a distance matrix, then the same greedy rule
    units = np.concatenate([W1.T, b1[:, None], W2], axis=1)
    close = np.max(np.abs(units[:, None, :] - units[None, :, :]), axis=2) <= atol
    firsts = []
    for j in range(len(units)):
        if not close[j, firsts].any():
            firsts.append(j)
    return len(firsts)


BUGS = [
    ("init.distinct_hidden_units", units_rows_of_w1, ("column",), {}),
    ("init.distinct_hidden_units", units_incoming_only, ("W2",), {}),
    ("init.distinct_hidden_units", units_exact_equality, ("atol",), {}),
    ("init.distinct_hidden_units", units_without_a_twin, ("group",), {}),
]

CORRECT = [
    ("init.distinct_hidden_units", units_pairwise_matrix, {}),
]
