"""The batch pipeline: a lesson's plan, each submission's stages, the records and the outputs."""
