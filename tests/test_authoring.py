"""course.authoring: solution regions, normalisation, `course build`, `course new-lesson`."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat import v4

from course import authoring
from course.authoring import AuthoringError, strip_code, strip_markdown
from course.cli import main

RELU = '''\
def relu_forward(x):
    """ReLU: out = max(0, x)."""
    ### BEGIN SOLUTION  (hint: use np.maximum)
    out = np.maximum(0, x)
    ### END SOLUTION
    return out'''


# ---------------------------------------------------------------- solution regions


def test_code_region_becomes_a_raise_at_the_marker_indentation():
    assert strip_code(RELU) == (
        "def relu_forward(x):\n"
        '    """ReLU: out = max(0, x)."""\n'
        '    raise NotImplementedError("write your solution here (replace this line). '
        'Hint: use np.maximum")\n'
        "    return out"
    )


def test_stub_is_python_that_raises_the_pointer():
    namespace = {}
    exec(strip_code(RELU), namespace)
    with pytest.raises(NotImplementedError, match="Hint: use np.maximum"):
        namespace["relu_forward"](1.0)


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("### BEGIN SOLUTION", "write your solution here (replace this line)"),
        ("### BEGIN SOLUTION hint: it's \"quoted\"", "... Hint: it's \"quoted\""),
        ("### BEGIN SOLUTION (a * b)", "... Hint: a * b"),
    ],
)
def test_pointer_text(marker, message):
    source = strip_code(f"if True:\n    {marker}\n    x = 1\n    ### END SOLUTION")
    assert source.startswith("if True:\n    raise NotImplementedError(")
    with pytest.raises(NotImplementedError) as info:
        exec(source, {})
    expected = message.replace("...", "write your solution here (replace this line).")
    assert str(info.value) == expected


def test_several_regions_and_the_lines_between_them_stay():
    source = (
        "a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nc = 3\n"
        "  ### BEGIN SOLUTION\n  d = 4\n  e = 5\n  ### END SOLUTION\n"
    )
    assert strip_code(source) == (
        "a = 1\n"
        'raise NotImplementedError("write your solution here (replace this line)")\n'
        "c = 3\n"
        '  raise NotImplementedError("write your solution here (replace this line)")\n'
    )


def test_cell_without_markers_is_unchanged():
    source = "import numpy as np\n\nfrom course.grader import check\n"
    assert strip_code(source) == source
    assert strip_markdown("# Title\n\nText") == "# Title\n\nText"


def test_whole_solution_cell_keeps_its_leading_comments():
    source = "# Compute the loss of the untrained model.\n\nloss0 = model(x)\nprint(loss0)"
    assert strip_code(source, whole_cell=True) == (
        "# Compute the loss of the untrained model.\n"
        'raise NotImplementedError("write your solution here (replace this line)")'
    )
    assert strip_code("w = 1", whole_cell=True) == (
        'raise NotImplementedError("write your solution here (replace this line)")'
    )
    # markers take precedence over the tag
    assert strip_code(RELU, whole_cell=True) == strip_code(RELU)


def test_markdown_regions_and_cells():
    source = "Why does it diverge?\n\n### BEGIN SOLUTION\nThe step is too large.\n### END SOLUTION"
    assert strip_markdown(source) == "Why does it diverge?\n\nYOUR ANSWER HERE"
    assert strip_markdown("The step is too large.", whole_cell=True) == "YOUR ANSWER HERE"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2", "BEGIN SOLUTION on line 2 has no ### END SOLUTION"),
        ("### END SOLUTION", "END SOLUTION on line 1 has no ### BEGIN SOLUTION"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
            "line 2 comes before the ### END SOLUTION of the one on line 1",
        ),
        ("## BEGIN SOLUTION\nx = 1\n## END SOLUTION", "line 1 looks like a solution marker"),
        ("x = 1  ### BEGIN SOLUTION", "line 1 looks like a solution marker"),
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTIONS", "line 3 looks like a solution marker"),
    ],
)
def test_bad_markers_are_errors(source, message):
    with pytest.raises(AuthoringError, match=message):
        strip_code(source)


def test_marker_errors_name_the_file_and_cell(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    write_notebook(solutions / "00_intro.ipynb", [("markdown", "# Intro"), "a = 1", RELU[:-30]])
    with pytest.raises(AuthoringError) as info:
        authoring.build(solutions, notebooks)
    message = str(info.value)
    assert "00_intro.ipynb, cell 3" in message and "'def relu_forward(x):'" in message
    assert not (notebooks / "00_intro.ipynb").exists()


# ---------------------------------------------------------------- normalisation


def _solution_notebook():
    """A solution notebook as Jupyter saves it after a run: outputs, counts, noisy metadata."""
    nb = v4.new_notebook(
        metadata={
            "kernelspec": {"display_name": "Python (course)", "language": "python", "name": "x"},
            "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python"},
            "widgets": {"state": {}},
        }
    )
    nb.cells = [
        v4.new_markdown_cell("# ReLU, vectorised\n\nIntro", metadata={"editable": False}),
        v4.new_code_cell(
            RELU,
            execution_count=3,
            outputs=[v4.new_output("stream", name="stdout", text="hi\n")],
            metadata={"execution": {"iopub.status.busy": "2024"}, "collapsed": True,
                      "tags": ["solution", "keep-me"], "nbgrader": {"solution": True}},
        ),  # fmt: skip
        v4.new_code_cell(
            "check('layers.relu_forward', relu_forward)",
            execution_count=4,
            outputs=[v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=4)],
            metadata={"tags": ["nbval-check-output"], "scrolled": True},
        ),
        v4.new_markdown_cell("Ünïcode stays: σ(x) → ∞"),
    ]
    nb.cells[1].id = "relu-cell"
    return nb


def test_learner_notebook_is_normalised():
    nb = authoring.learner_notebook(_solution_notebook(), "02_relu")
    assert nb.metadata == {
        "course": {"lesson": "02_relu"},
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"},
    }  # fmt: skip
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    markdown, relu, check, unicode = nb.cells
    assert markdown.metadata == {"editable": False}
    assert relu.metadata == {"tags": ["keep-me"]}
    assert check.metadata == {"tags": ["nbval-check-output"]}
    assert all(cell.outputs == [] and cell.execution_count is None for cell in (relu, check))
    assert relu.id == "relu-cell"
    assert "raise NotImplementedError" in relu.source and "np.maximum(0, x)" not in relu.source
    assert check.source == "check('layers.relu_forward', relu_forward)"
    assert unicode.source == "Ünïcode stays: σ(x) → ∞"
    nbformat.validate(nb)


def test_cell_ids_come_from_the_solution_or_the_index():
    nb = _solution_notebook()
    nb.cells[2].id = "relu-cell"  # duplicate
    del nb.cells[3]["id"]  # missing, as in an nbformat 4.4 notebook
    nb.cells[0].id = "cell-2"  # would collide with a derived id
    ids = [cell.id for cell in authoring.learner_notebook(nb, "02_relu").cells]
    assert ids == ["cell-2", "relu-cell", "cell-2-b", "cell-3"]


def test_old_notebooks_without_ids_build_identically(lesson_dirs):
    solutions, notebooks = lesson_dirs
    nb = _solution_notebook()
    nb.nbformat_minor = 4
    for cell in nb.cells:
        del cell["id"]
    (solutions / "02_relu.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    first = authoring.expected_notebooks(solutions)
    assert first == authoring.expected_notebooks(solutions)
    ids = [cell.id for cell in nbformat.reads(first["02_relu.ipynb"], as_version=4).cells]
    assert ids == ["cell-0", "cell-1", "cell-2", "cell-3"]


def test_clean_solution_keeps_solutions_and_checked_outputs():
    original = _solution_notebook()
    nb = authoring.clean_solution(original, "02_relu")
    _, relu, check, _ = nb.cells
    assert relu.source == RELU
    assert relu.metadata == {"tags": ["solution", "keep-me"], "nbgrader": {"solution": True}}
    assert relu.outputs == [] and relu.execution_count is None
    assert check.execution_count == 4 and check.outputs[0].data == {"text/plain": "1"}
    # the cleaned solution still builds the same learner notebook
    assert authoring.render(authoring.learner_notebook(nb, "02_relu")) == authoring.render(
        authoring.learner_notebook(original, "02_relu")
    )


# ---------------------------------------------------------------- course build


def test_build_writes_learner_notebooks_and_is_idempotent(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    nbformat.write(_solution_notebook(), solutions / "02_relu.ipynb")
    write_notebook(solutions / "00_intro.ipynb", [("markdown", "# Getting started"), "x = 1"])
    report = authoring.build(solutions, notebooks)
    assert sorted(p.name for p in report.written) == ["00_intro.ipynb", "02_relu.ipynb"]
    first = {p.name: p.read_bytes() for p in notebooks.iterdir()}
    mtimes = {p.name: p.stat().st_mtime_ns for p in notebooks.iterdir()}

    report = authoring.build(solutions, notebooks)
    assert report.written == [] and len(report.unchanged) == 2
    assert {p.name: p.read_bytes() for p in notebooks.iterdir()} == first
    assert {p.name: p.stat().st_mtime_ns for p in notebooks.iterdir()} == mtimes
    assert authoring.out_of_date(solutions, notebooks) == []

    built = nbformat.reads(first["02_relu.ipynb"].decode(), as_version=4)
    assert built.metadata.course == {"lesson": "02_relu"}
    assert first["02_relu.ipynb"].endswith(b"}\n")


def test_out_of_date_lists_missing_changed_and_stale(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    write_notebook(solutions / "00_intro.ipynb", ["x = 1"])
    write_notebook(solutions / "01_relu.ipynb", ["y = 2"])
    authoring.build(solutions, notebooks)
    assert authoring.out_of_date(solutions, notebooks) == []

    write_notebook(solutions / "01_relu.ipynb", ["y = 3"])
    (notebooks / "00_intro.ipynb").unlink()
    (notebooks / "07_old.ipynb").write_text("{}")
    (notebooks / "scratch.ipynb").write_text("{}")  # not a lesson: ignored
    problems = authoring.out_of_date(solutions, notebooks)
    assert len(problems) == 3
    assert "00_intro.ipynb is missing" in problems[0]
    assert "01_relu.ipynb differs" in problems[1]
    assert "07_old.ipynb has no" in problems[2]


def test_build_does_not_overwrite_a_notebook_that_was_run(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    write_notebook(solutions / "00_intro.ipynb", ["x = 1"])
    worked = v4.new_notebook(cells=[v4.new_code_cell("x = 41", execution_count=1)])
    nbformat.write(worked, notebooks / "00_intro.ipynb")
    before = (notebooks / "00_intro.ipynb").read_bytes()
    report = authoring.build(solutions, notebooks)
    assert report.refused == [notebooks / "00_intro.ipynb"]
    assert (notebooks / "00_intro.ipynb").read_bytes() == before
    report = authoring.build(solutions, notebooks, force=True)
    assert report.written == [notebooks / "00_intro.ipynb"]


def test_build_rejects_badly_named_lessons(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    write_notebook(solutions / "Untitled.ipynb", ["x = 1"])
    with pytest.raises(AuthoringError, match="named NN_topic.ipynb"):
        authoring.build(solutions, notebooks)


def test_broken_notebook_file_is_named(lesson_dirs):
    solutions, notebooks = lesson_dirs
    (solutions / "00_intro.ipynb").write_text("{ not json")
    with pytest.raises(AuthoringError, match="00_intro.ipynb: not a readable notebook"):
        authoring.build(solutions, notebooks)


def test_clean_solutions_rewrites_solutions_once(lesson_dirs):
    solutions, notebooks = lesson_dirs
    nbformat.write(_solution_notebook(), solutions / "02_relu.ipynb")
    report = authoring.build(solutions, notebooks, clean_solutions=True)
    assert report.cleaned == [solutions / "02_relu.ipynb"]
    cleaned = nbformat.read(solutions / "02_relu.ipynb", as_version=4)
    assert cleaned.cells[1].outputs == [] and cleaned.cells[1].source == RELU
    assert authoring.build(solutions, notebooks, clean_solutions=True).cleaned == []


def test_find_lessons(lesson_dirs, write_notebook):
    solutions, _ = lesson_dirs
    write_notebook(solutions / "01_relu.ipynb", [("markdown", "\n# ReLU, vectorised\n\nText")])
    write_notebook(solutions / "00_getting_started.ipynb", ["x = 1"])
    write_notebook(solutions / "notes.ipynb", ["x = 1"])
    lessons = authoring.find_lessons(solutions)
    assert [(lesson.name, lesson.number, lesson.title) for lesson in lessons] == [
        ("00_getting_started", 0, "Getting started"),
        ("01_relu", 1, "ReLU, vectorised"),
    ]
    assert authoring.find_lessons(solutions / "missing") == []


def test_cli_build_and_check(lesson_dirs, write_notebook, capsys):
    solutions, notebooks = lesson_dirs
    dirs = ["--solutions", str(solutions), "--notebooks", str(notebooks)]
    write_notebook(solutions / "00_intro.ipynb", ["x = 1"])
    assert main(["build", "--check", *dirs]) == 1
    assert "00_intro.ipynb is missing" in capsys.readouterr().out
    assert not (notebooks / "00_intro.ipynb").exists()
    assert main(["build", *dirs]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["build", "--check", *dirs]) == 0
    assert main(["build", "--solutions", str(solutions / "nope")]) == 1
    assert "--solutions DIR" in capsys.readouterr().err

    write_notebook(solutions / "01_bad.ipynb", ["### BEGIN SOLUTION"])
    assert main(["build", *dirs]) == 1
    assert "error: " in capsys.readouterr().err


# ---------------------------------------------------------------- course new-lesson


def test_slugify():
    assert authoring.slugify("  Batch normalisation! ") == "batch_normalisation"
    assert authoring.slugify("Adam & AdamW (2014)") == "adam_adamw_2014"
    assert authoring.slugify("Régularisation") == "regularisation"
    with pytest.raises(AuthoringError, match="letters or digits"):
        authoring.slugify("?!")


def test_new_lesson_scaffolds_the_next_lesson(lesson_dirs, write_notebook):
    solutions, notebooks = lesson_dirs
    write_notebook(solutions / "00_intro.ipynb", ["x = 1"])
    write_notebook(solutions / "03_relu.ipynb", ["x = 1"])
    path = authoring.new_lesson("Batch normalisation", solutions)
    assert path == solutions / "04_batch_normalisation.ipynb"

    nb = nbformat.read(path, as_version=4)
    sources = [cell.source for cell in nb.cells]
    assert sources[0].startswith("# Batch normalisation\n")
    assert any(s.startswith("## What you will learn") for s in sources)
    assert any("### BEGIN SOLUTION" in s for s in sources)
    assert any(s.startswith("## Recap") for s in sources)
    check_cell = next(s for s in sources if "check(" in s and "import" not in s)
    assert f'check("{authoring.PLACEHOLDER_PREFIX}batch_normalisation.double", double)' in (
        check_cell
    )
    assert authoring.find_lessons(solutions)[2].title == "Batch normalisation"

    # the scaffold builds, and its solution code works
    authoring.build(solutions, notebooks)
    learner = nbformat.read(notebooks / path.name, as_version=4)
    exercise = next(cell.source for cell in learner.cells if "def double" in cell.source)
    assert "raise NotImplementedError" in exercise and "return 2 * x" not in exercise
    namespace = {}
    exec(next(s for s in sources if "def double" in s), namespace)
    assert namespace["double"](21) == 42

    with pytest.raises(AuthoringError, match="exists already"):
        authoring.new_lesson("Batch Normalisation", solutions)


def test_cli_new_lesson(tmp_path, capsys):
    folder = tmp_path / "solutions"
    assert main(["new-lesson", "Getting started", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "00_getting_started.ipynb" in out and "course build" in out
    assert (folder / "00_getting_started.ipynb").exists()
    assert main(["new-lesson", "!!", "--dir", str(folder)]) == 1
