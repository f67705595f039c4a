"""Allow ``python -m function``."""

from function.main import cli

cli()
