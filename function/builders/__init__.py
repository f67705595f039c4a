"""One pure module per concern: a Context in, the composed resources it asks for out.

A builder reads only ``model``, never another builder: keys are in ``model.keys``,
who waits for whom in ``model.edges``.
"""
