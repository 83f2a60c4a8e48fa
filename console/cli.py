"""Entry point of the ``guichet`` console script.

``main`` runs the Typer app, then flushes and leaves with ``os._exit``: a process that used a
Temporal client can abort while Python finalises (sdk-python #300, exit code 134), which
would turn a successful command into a failure. The exit code is kept exactly.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

from console.app import app, reflow_help

__all__ = ["app", "load_commands", "main", "run"]


def load_commands() -> None:
    """Import the command modules: each registers its commands on ``app`` (in --help order)."""
    from console import dev, people  # noqa: F401

    # isort: split
    from console import actions, attaching  # noqa: F401

    # isort: split
    from console import auditing, auditing_show  # noqa: F401

    # isort: split
    from console import auditing_crosscheck, auditing_verify  # noqa: F401

    # isort: split
    from console import auditing_replay  # noqa: F401

    # isort: split
    from console import auditing_exports, auditing_keys  # noqa: F401

    # isort: split
    from console.web import serve  # noqa: F401

    # isort: split
    from console import users  # noqa: F401

    # isort: split
    from console import notices, status, upgrading  # noqa: F401

    reflow_help(app)


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code; never lets a traceback reach the person."""
    try:
        load_commands()
        app(args=list(argv) if argv is not None else None, prog_name="guichet")
    except SystemExit as leaving:
        code = leaving.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("guichet: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug of ours, or a half-installed tree: one sentence
        if os.environ.get("GUICHET_DEBUG"):
            traceback.print_exc()
        print(
            f"guichet: unexpected error ({type(error).__name__}: {error}); "
            "set GUICHET_DEBUG=1 for details",
            file=sys.stderr,
        )
        return 1
    return 0


def main() -> None:
    """``guichet``: run the command, flush, and ``os._exit`` with its code (sdk-python #300)."""
    code = run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
