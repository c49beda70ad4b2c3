"""Exercise declarations, one module per id prefix.

An exercise's id names its module: ``network.two_layer_step`` is declared in ``network.py``,
``layers.relu_forward`` in ``layers_activations.py`` (``<prefix>.py`` or ``<prefix>_<part>.py``
when one prefix needs several modules; a test keeps it so). Every module here (names not
starting with "_") is imported the first time the registry is used, and declares its exercises
with :func:`course.grader.register`. To add a topic, add a module; to add an exercise, add one
``register(...)`` call next to its siblings.
"""
