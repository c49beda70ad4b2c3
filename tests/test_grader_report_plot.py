"""The path plot in a failing optimizer check's report: both paths, labelled axes."""

import numpy as np

from course.grader.report import _path_png, path_figure


def _plot():
    expected = np.array([[1.0, 1.0], [0.8, 0.9], [0.6, 0.8]])
    got = np.array([[1.0, 1.0], [0.8, 0.9], [0.7, 0.5]])
    return {"expected": expected, "got": got, "step": 2, "function": "quadratic"}


def test_the_path_plot_labels_its_axes_and_marks_the_first_difference():
    fig = path_figure(_plot())
    (ax,) = fig.axes
    assert ax.get_xlabel() == "w[0]" and ax.get_ylabel() == "w[1]"
    assert ax.get_title() == "quadratic: w over the steps"
    labels = [line.get_label() for line in ax.lines]
    assert "expected" in labels and "yours" in labels and "first difference (step 2)" in labels


def test_the_path_plot_is_an_embeddable_png():
    import base64

    assert base64.b64decode(_path_png(_plot())).startswith(b"\x89PNG")
