"""The state folder holds the SQLite log (the console accounts' password hashes), Temporal's
dev database and ``dev.json``: created for its owner only, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.state_folder import open_private, private_sqlite_file, private_state_dir
from tests.cli.support import guichet


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def lax_umask() -> Iterator[None]:
    """The usual umask (022), under which a plain mkdir or SQLite made them world-readable."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def test_migrate_creates_the_state_folder_and_its_log_for_their_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`guichet migrate` with the embedded SQLite log: the folder 0700, the log and its WAL
    companions 0600."""
    state = tmp_path / "state"
    monkeypatch.setenv("GUICHET_STATE_DIR", str(state))
    monkeypatch.delenv("GUICHET_DATABASE_URL", raising=False)
    code, _, err = guichet(capsys, "migrate")
    assert code == 0, err
    assert mode(state) == 0o700
    written = sorted(state.glob("eventlog.sqlite3*"))
    assert written and all(mode(path) == 0o600 for path in written), [
        (path.name, oct(mode(path))) for path in written
    ]


def test_a_state_folder_an_earlier_release_left_readable_is_tightened(tmp_path: Path) -> None:
    """The folder and Guichet's files in it, readable by everyone, become their owner's."""
    state = tmp_path / "state"
    state.mkdir(mode=0o755)
    for name in ("eventlog.sqlite3", "eventlog.sqlite3-wal", "temporal.sqlite3", "dev.json"):
        (state / name).write_text("")
        (state / name).chmod(0o644)
    private_state_dir(state)
    assert mode(state) == 0o700
    assert {path.name: mode(path) for path in state.iterdir()} == dict.fromkeys(
        ("eventlog.sqlite3", "eventlog.sqlite3-wal", "temporal.sqlite3", "dev.json"), 0o600
    )


def test_a_folder_holding_nothing_of_guichet_keeps_its_mode(tmp_path: Path) -> None:
    """--state-dir naming a folder used for something else: its mode is not Guichet's to
    change; what Guichet writes in it is still private."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "notes.txt").write_text("")
    private_state_dir(shared)
    assert mode(shared) == 0o755
    private_sqlite_file(f"sqlite+aiosqlite:///{shared / 'eventlog.sqlite3'}")
    os.close(open_private(shared / "dev.json"))
    assert mode(shared / "eventlog.sqlite3") == mode(shared / "dev.json") == 0o600
    assert mode(shared / "notes.txt") == 0o644
