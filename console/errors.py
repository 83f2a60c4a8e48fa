"""The CLI's errors: one sentence on stderr and an exit code that scripts can rely on.

Exit codes: 0 success, 1 refused by Guichet or a server is unreachable, 2 usage or input
error (Typer's own usage errors use 2 as well).
"""

from __future__ import annotations

EXIT_REFUSED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """An error that ends the command with ``message`` on stderr and ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_REFUSED) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def usage_error(message: str) -> CliError:
    """An input the person must change (exit code 2)."""
    return CliError(message, EXIT_USAGE)
