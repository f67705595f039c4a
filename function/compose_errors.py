"""The error a builder raises for input it cannot compose."""


class InvalidError(ValueError):
    """A claim or input that cannot be composed; the message names the field."""
