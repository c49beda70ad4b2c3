"""check() in a real Jupyter kernel (through nbclient): one rich display per check, the pass or
fail line first, diagnoses in words, "not attempted yet" for a stub."""

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [pytest.mark.notebooks, pytest.mark.xdist_group("grader-kernel")]  # module fixtures: one worker

CELLS = [
    "import numpy as np\nfrom course.grader import check",
    # 1: correct, last expression: shown exactly once
    "def relu_forward(x):\n    return np.maximum(x, 0), x\n\ncheck('layers.relu_forward', relu_forward)",
    # 2: wrong backward (forgot 1/N... the other way round: multiplied by N)
    "def linear_backward(dout, cache):\n    x, W, b = cache\n"
    "    return dout @ W.T, len(x) * (x.T @ dout), dout.sum(axis=0)\n\n"
    "check('layers.linear_backward', linear_backward)",
    # 3: a stub
    "def softmax(x):\n    raise NotImplementedError\n\ncheck('layers.softmax', softmax)",
    # 4: two checks in one cell, neither the last expression
    "check('layers.relu_forward', relu_forward)\ncheck('layers.softmax', softmax)\nx = 1",
    # 5: kept in a variable, shown later
    "r = check('layers.relu_forward', relu_forward)",
    "r",
    # 7: the learner's exception, learner frame only
    "def tanh_forward(x):\n    return np.tanh(x) @ x, x\n\ncheck('layers.tanh_forward', tanh_forward)",
    # 8: an optimizer with a named bug: plot embedded
    "from course.optim import adam\n"
    "def adam_mine(w, g, state, **hp):\n    hp['eps'] = 0\n    return adam(w, g, state, **hp)\n\n"
    "def adam_no_state(w, g, state, **hp):\n    return adam(w, g, {}, **hp)\n\n"
    "check('optim.adam', adam_no_state)",
]


def _html(outputs):
    return [o["data"]["text/html"] for o in outputs if "data" in o and "text/html" in o["data"]]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("MPLBACKEND", "Agg")
    mp.setenv("COURSE_PROGRESS_FILE", str(tmp_path_factory.mktemp("progress") / "progress.json"))
    mp.delenv("COURSE_CHECK_STRICT", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    try:
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        mp.undo()
    return nb


def test_pass_line_shown_once(executed):
    html = _html(executed.cells[1].outputs)
    assert len(html) == 1
    assert "PASSED" in html[0] and "layers.relu_forward" in html[0]
    assert html[0].index("PASSED") < html[0].index("<details")


def test_fail_line_and_diagnosis(executed):
    html = _html(executed.cells[2].outputs)
    assert len(html) == 1
    assert "FAILED" in html[0]
    assert "did you forget to divide by the batch size N?" in html[0]
    assert "<details>" in html[0]


def test_stub_not_attempted(executed):
    html = _html(executed.cells[3].outputs)
    assert len(html) == 1 and "not attempted yet" in html[0]
    text = [o["data"]["text/plain"] for o in executed.cells[3].outputs if "data" in o]
    assert "not attempted yet" in text[0]


def test_every_check_in_a_cell_shows(executed):
    html = _html(executed.cells[4].outputs)
    assert len(html) == 2


def test_result_in_a_variable_shows_when_asked(executed):
    assert len(_html(executed.cells[5].outputs)) == 1
    assert len(_html(executed.cells[6].outputs)) == 1


def test_learner_traceback(executed):
    html = _html(executed.cells[7].outputs)[0]
    assert "tanh_forward" in html and "raised ValueError" in html
    assert "grader/run/runner.py" not in html


def test_optimizer_plot(executed):
    html = _html(executed.cells[8].outputs)[0]
    assert "state_not_updated" in html and "data:image/png;base64," in html
