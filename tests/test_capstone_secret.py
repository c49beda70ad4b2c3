"""The capstone is graded on data the sandbox cannot look up (issue 24).

The grading view's digits file holds no test label (-1 there, the split shipped as rows), and
the test images ``predict`` is given are the grader's copy with a secret noise (its seed is not
sent), so no copy of the digits matches them; the reference still reaches the bar.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from course.data import digits_split, load_digits
from course.grader import get
from course.grader.cases import cases
from course.grader.compare import compare
from course.grader.grading import reference_outcomes
from course.grader.run.runner import run
from course.grader.topics.capstone import MIN_ACCURACY

LOOKUP = '''
import numpy as np
from course.data import load_digits
X, y = load_digits("test")
TABLE = {row.tobytes(): label for row, label in zip(X, y)}
X, y = load_digits("all")
TABLE.update({row.tobytes(): label for row, label in zip(X, y)})
'''


def test_the_grading_view_holds_no_test_label_and_the_same_split(tmp_path):
    from course.instructor.sandbox import view

    view.build(tmp_path, [])
    code = ("import json, numpy as np\nfrom course.data import load_digits, digits_split\n"
            "Xt, yt = load_digits('test'); X, y = load_digits('train'); tr, te = digits_split()\n"
            "print(json.dumps([sorted(set(yt.tolist())), float(Xt.sum()), float(X.sum()), y.tolist(), te.tolist()]))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path)},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import json

    labels, test_sum, train_sum, train_labels, test_rows = json.loads(out.stdout)
    assert labels == [-1]
    assert test_sum == load_digits("test")[0].sum() and train_sum == load_digits("train")[0].sum()
    assert train_labels == load_digits("train")[1].tolist() and test_rows == digits_split()[1].tolist()


def _images(seed):
    return cases(get("capstone.train"), seed)[1].extra["images"]


def test_no_shipped_image_matches_the_graders_test_images():
    shipped = {row.tobytes() for split in ("all", "test") for row in load_digits(split)[0]}
    shipped |= {row.tobytes() for row in load_digits("all", scale=False)[0]}
    a, b = _images(0), _images(1)
    assert a.shape == (364, 64) and not {row.tobytes() for row in a} & shipped
    assert not np.array_equal(a, b)  # a new noise with every grading seed
    assert np.abs(a - load_digits("test")[0]).max() < 1 / 32  # the same digits, each pixel within half a level


def test_a_predict_that_looks_the_images_up_fails():
    space: dict = {}
    exec(LOOKUP, space)  # the labels of every copy the course ships, in the grader's process
    table = space["TABLE"]

    class Lookup:
        def predict(self, X):
            return np.array([table.get(np.asarray(r, dtype=np.float64).tobytes(), 0) for r in X])

    ex = get("capstone.train")
    case_list = cases(ex, 0)
    outcomes = run(ex, lambda X, y, **kw: (Lookup(), [2.3, 1.2, 0.6]), case_list)
    results = compare(ex, case_list, outcomes, reference_outcomes(ex, 0))
    assert not results[1].passed and "accuracy" in {d.name for d in results[1].diagnoses}


@pytest.mark.parametrize("seed", [1, 2])
def test_the_reference_reaches_the_bar_on_the_graders_images(seed):
    ex = get("capstone.train")
    outcomes = reference_outcomes(ex, seed)
    labels = load_digits("test")[1]
    assert np.mean(outcomes[1].outputs == labels) >= MIN_ACCURACY
