"""Lesson names (course.lessons): the one pattern, the order, the solutions folder."""

from __future__ import annotations

import pytest

from course import lessons


@pytest.mark.parametrize("name", ["00_getting_started", "03_backprop", "19_capstone", "12_big_data_2"])
def test_lesson_names(name):
    assert lessons.is_lesson(name) and lessons.LESSON_FILE.match(name + ".ipynb")


@pytest.mark.parametrize("name", ["3_backprop", "03-backprop", "03_Backprop", "03_", "03_back__prop", "03_backprop_", 3])
def test_not_lesson_names(name):
    assert not lessons.is_lesson(name)


def test_order_by_number_and_title():
    assert lessons.ordered(["10_b", "02_a", "10_a", "02_a"]) == ["02_a", "10_a", "10_b"]
    assert lessons.number("07_adaptive") == 7
    assert lessons.topic_words("04_gradient_checking") == "Gradient checking"


def test_from_directory(tmp_path):
    for name in ("01_b.ipynb", "00_a.ipynb", "README.ipynb", "01_b.py"):
        (tmp_path / name).write_text("")
    assert lessons.from_directory(tmp_path) == ["00_a", "01_b"]
    assert lessons.from_directory(tmp_path / "missing") == []


def test_the_checkout_has_its_solutions():
    found = lessons.from_directory(None)
    assert "03_backprop" in found and found == lessons.ordered(found)
