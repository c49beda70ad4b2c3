"""Test lists derived from the registry, so that adding an exercise needs no hand-kept list here."""

from __future__ import annotations

from course.grader import exercises


def elementwise_layers() -> dict:
    """``{name: (forward, backward)}`` of every registered elementwise layer: a pair of exercises
    whose references are ``NAME_forward`` and ``NAME_backward`` of ``course.layers.activations``
    (a new activation registered there is tested by the layer and property tests at once)."""
    refs = {ex.reference.__name__: ex.reference for ex in exercises()
            if getattr(ex.reference, "__module__", "") == "course.layers.activations"}
    return {name[: -len("_forward")]: (fn, refs[name[: -len("_forward")] + "_backward"])
            for name, fn in refs.items()
            if name.endswith("_forward") and name[: -len("_forward")] + "_backward" in refs}
