"""What every layer reads: the typed spec, error wording, keys, names and observed state.

Nothing here imports from ``builders``, the pipeline, ``serving`` or ``offline``.
"""
