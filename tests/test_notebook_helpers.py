"""course.notebook.needs: a demo that needs unwritten code says which exercise unlocks it."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from course.notebook import needs, unlock_message  # noqa: E402


def stub(x):
    raise NotImplementedError("write your solution here")


def test_unwritten_exercise_prints_one_line_and_closes_its_figure(capsys):
    before = set(plt.get_fignums())
    with needs("optim.adagrad"):
        plt.figure()
        stub(1)
        raise AssertionError("not reached")
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0
    assert "optim.adagrad" in out and "AdaGrad" in out and "finish it above" in out
    assert set(plt.get_fignums()) == before


def test_written_code_runs_and_other_errors_pass_through():
    ran = []
    with needs("optim.adagrad"):
        ran.append(1)
    assert ran == [1]
    with pytest.raises(ValueError, match="learner bug"):
        with needs("optim.adagrad"):
            raise ValueError("learner bug")


def test_several_and_unknown_ids_are_named():
    msg = unlock_message("layers.relu_forward", "no.such_exercise")
    assert "Exercises layers.relu_forward" in msg and "and no.such_exercise" in msg


def test_the_banner_needs_no_emoji_font():
    from course.notebook import banner_html

    page = banner_html("finish <Exercise 1> first")
    assert "DEMO LOCKED" in page and "&lt;Exercise 1&gt;" in page
    assert all(ord(ch) < 0x2000 for ch in page) and "&#" not in page  # plain text and CSS only
