"""``audit.writing.Replacement``: the file auditors keep is replaced whole or not at all."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from audit.writing import Replacement


class Interrupted(Exception):
    """The work stopped half-way."""


def test_an_interrupted_write_leaves_the_target_and_nothing_beside_it(tmp_path: Path) -> None:
    """Half a file is never seen: the earlier one stays, no part file is left."""
    target = tmp_path / "checkpoints.json"
    target.write_text("earlier\n", encoding="utf-8")
    with pytest.raises(Interrupted), Replacement(target) as handle:
        handle.write("half of the new")
        raise Interrupted
    assert target.read_text(encoding="utf-8") == "earlier\n"
    assert [path.name for path in tmp_path.iterdir()] == ["checkpoints.json"]


def test_a_finished_write_replaces_the_target_with_its_mode(tmp_path: Path) -> None:
    """The new text takes the place of the old, with the old file's permissions."""
    target = tmp_path / "portfolio.csv"
    target.write_text("earlier\n", encoding="utf-8")
    target.chmod(0o600)
    with Replacement(target) as handle:
        handle.write("a;b\r\n")
        assert target.read_text(encoding="utf-8") == "earlier\n"
    assert target.read_bytes() == b"a;b\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["portfolio.csv"]


def test_a_symbolic_link_is_written_through(tmp_path: Path) -> None:
    """As opening it would: the file the link points to gets the text; the link stays."""
    kept = tmp_path / "kept.jsonl"
    kept.write_text("earlier\n", encoding="utf-8")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(kept)
    with Replacement(link) as handle:
        handle.write("new\n")
    assert link.is_symlink()
    assert kept.read_text(encoding="utf-8") == "new\n"


def test_a_missing_folder_fails_before_any_work(tmp_path: Path) -> None:
    """Creating the replacement raises the folder's error, so no work is wasted."""
    with pytest.raises(FileNotFoundError):
        Replacement(tmp_path / "missing" / "out.csv")
