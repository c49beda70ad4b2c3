"""Realistic learner implementations, buggy and correct-but-unusual, kept apart from the grader's
registered variants: each lesson module has ``BUGS`` (exercise id, function, words the message
should contain, check options) and ``CORRECT`` (exercise id, function, options).
``python -m tests.bugs.measure`` runs them all and prints the named fraction."""
