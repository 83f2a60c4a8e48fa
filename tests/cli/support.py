"""Running ``guichet`` in-process, as the CLI tests of several folders do."""

from __future__ import annotations

import pytest

from console.cli import run


def guichet(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run one command; its exit code, stdout and stderr (never a traceback)."""
    capsys.readouterr()
    code = run(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err
