"""Lesson 20 where PyTorch is not installed: the learner notebook's code cells run to the end (in
this process, with ``import torch`` failing), every check says which extra it needs, and every
demo prints the install line instead of an error."""

import json
import sys
from pathlib import Path

import pytest

from course.notebook import extra_message

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "20_pytorch_bridge.ipynb"


@pytest.fixture
def no_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setenv("COURSE_PROGRESS_FILE", "off")
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.delenv("COURSE_CHECK_STRICT", raising=False)


def test_run_all_reaches_the_end_and_every_check_names_the_extra(no_torch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    from course.grader import check

    results = []

    def recording_check(*args, **kwargs):
        results.append(check(*args, record=False, **kwargs))
        return results[-1]

    cells = [c for c in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code"]
    scope: dict = {}
    for c in cells:
        source = "".join(c["source"]).replace("%matplotlib inline", "")
        exec(compile(source, f"cell {c['id']}", "exec"), scope)
        scope["check"] = recording_check  # after the first cell's import
    out = capsys.readouterr().out
    demos = sum("needs_extra(" in "".join(c["source"]) for c in cells)
    assert demos >= 4 and out.count(extra_message("torch")) == demos
    assert len(results) == 3
    for r in results:
        assert not r.passed and r.diagnosis_names == ["needs_extra"]
        assert 'pip install "backprop-course[torch]"' in str(r)


def test_a_check_made_without_the_extra_does_not_stick_once_it_is_there(monkeypatch):
    pytest.importorskip("torch")
    from course.bridge import train_step
    from course.grader import check

    with monkeypatch.context() as m:
        m.setitem(sys.modules, "torch", None)
        assert "needs_extra" in check("bridge.train_step", train_step, record=False).diagnosis_names
    assert check("bridge.train_step", train_step, record=False).passed  # the reference is run again
