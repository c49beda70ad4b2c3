"""Every written question (a markdown cell tagged ``manual``) of every lesson: the learner
notebook keeps the question and loses only the model answer, and ``course manual collect`` shows
the question, the model answer and each learner's answer, each in its place."""

from __future__ import annotations

import copy
import csv
import html
from pathlib import Path

import nbformat
import pytest

from course.authoring.normalise import learner_notebook
from course.authoring.strip import MARKDOWN_STUB
from course.instructor.course_admin import manual

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))
CELLS = [(p, i) for p in SOLUTIONS for i, c in enumerate(nbformat.read(p, as_version=4).cells)
         if c.cell_type == "markdown" and manual.TAG in c.metadata.get("tags", [])]


def test_there_are_written_questions():
    assert any(p.stem == "19_capstone" for p, _ in CELLS)


@pytest.mark.parametrize(("path", "index"), CELLS, ids=[f"{p.stem}-cell{i + 1}" for p, i in CELLS])
def test_the_question_stays_and_only_the_model_answer_goes(path, index):
    sol = nbformat.read(path, as_version=4)
    question, answer = sol.cells[index - 1], sol.cells[index]
    assert question.cell_type == "markdown" and question.source.strip(), "a written question needs its question above"
    assert not {"solution", manual.TAG} & set(question.metadata.get("tags", [])), (
        f"{path.name}, cell {index}: the question is tagged so that the build strips it")
    learner = nbformat.read(REPO / "notebooks" / path.name, as_version=4)
    assert learner == learner_notebook(sol, path.stem)  # notebooks/ is what the build writes
    assert learner.cells[index - 1].source == question.source
    assert learner.cells[index].source.strip() == MARKDOWN_STUB
    model = manual.model_answer(answer.source)
    assert model and "BEGIN SOLUTION" not in model and model not in "\n".join(c.source for c in learner.cells)
    [q] = [q for q in manual.questions(path) if q.cell_id == answer.id]
    assert (q.prompt, q.model_answer) == (question.source, model)


@pytest.mark.parametrize("path", sorted({p for p, _ in CELLS}), ids=lambda p: p.stem)
def test_course_manual_shows_question_model_answer_and_each_learners_answer(path, tmp_path):
    learner = nbformat.read(REPO / "notebooks" / path.name, as_version=4)
    subs = tmp_path / "subs"
    subs.mkdir()
    nbformat.write(learner, subs / "blank.ipynb")
    mine = copy.deepcopy(learner)
    for c in mine.cells:
        if manual.TAG in c.metadata.get("tags", []):
            c.source = "My <b>answer</b>: dropout hardly mattered."
    nbformat.write(mine, subs / "ada.ipynb")
    manual.collect([subs], REPO / "solutions", tmp_path / "m")
    for q in manual.questions(path):
        page = (tmp_path / "m" / f"{q.id}.html").read_text()
        parts = page.split("<h2>")
        assert parts[1].startswith("Question</h2>") and html.escape(q.prompt) in parts[1]
        assert parts[2].startswith("Model answer</h2>") and html.escape(q.model_answer) in parts[2]
        assert html.escape(q.prompt) not in parts[2] and html.escape(q.model_answer) not in parts[1]
        answers = parts[3]
        assert "<h3>ada</h3><div class='a'>My &lt;b&gt;answer&lt;/b&gt;: dropout hardly mattered.</div>" in answers
        assert "<h3>blank</h3><div class='a'><em>(no answer)</em></div>" in answers
        assert MARKDOWN_STUB not in answers
    rows = list(csv.DictReader(open(tmp_path / "m" / "scores.csv")))
    assert sorted((r["submission"], r["question"]) for r in rows) == sorted(
        (s, q.id) for s in ("ada", "blank") for q in manual.questions(path))
