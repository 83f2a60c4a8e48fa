"""The state folder (``GUICHET_STATE_DIR``), readable by the account that runs Guichet only.

It holds the SQLite event log (with the console accounts' password hashes), Temporal's dev
database (every file's content), ``dev.json`` and the dev server's log: ``guichet dev``,
``guichet worker`` and ``guichet migrate`` create it 0700 and what they write in it 0600,
whatever the umask (a default umask made them world-readable on a shared machine). A state
folder left readable by an earlier release is tightened, with the files of Guichet it holds,
when it belongs to the account running Guichet; a folder that holds none of them (one named
by ``--state-dir`` for another use) keeps its mode, and only Guichet's files are made private.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import sqlalchemy as sa

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600
PRIVATE_UMASK = 0o077
"""For a child that writes there (Temporal's dev server): what it creates is its owner's only."""
STATE_FILES = ("eventlog.sqlite3", "temporal.sqlite3", "dev.json", "temporal.log")
"""What Guichet keeps there; the SQLite files' ``-wal`` and ``-shm`` companions too."""


def private_state_dir(folder: Path) -> Path:
    """Create ``folder`` (and its parents) with only its owner let in, or tighten it and
    Guichet's files in it when an earlier release left them readable by others."""
    existed = folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    ours = list(_state_files(folder))
    if not existed or ours:
        _restrict(folder, PRIVATE_FOLDER)
    for path in ours:
        _restrict(path, PRIVATE_FILE)
    return folder


def private_sqlite_file(url: str) -> None:
    """Create a SQLite log's file empty (a valid database) and private before SQLite does:
    SQLite creates it 0644 less the umask, and gives its ``-wal`` and ``-shm`` files the
    mode of the database file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return
    path = Path(parsed.database)
    if path.exists():
        _restrict(path, PRIVATE_FILE)
    elif path.parent.is_dir():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))


def open_private(path: Path, mode: str = "w") -> int:
    """A file descriptor for ``path`` opened to write (``"w"``) or append (``"a"``), the
    file created 0600 when it is new and made so when it was readable by others."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    descriptor = os.open(path, flags, PRIVATE_FILE)
    _restrict(path, PRIVATE_FILE)
    return descriptor


def _state_files(folder: Path) -> list[Path]:
    return [
        path
        for path in folder.iterdir()
        if path.name.split("-")[0] in STATE_FILES and path.is_file()
    ]


def _restrict(path: Path, mode: int) -> None:
    """``path`` to ``mode`` when it is ours and lets in others; left alone otherwise (a
    folder of another account, a read-only mount: nothing Guichet should change)."""
    try:
        found = path.stat()
    except OSError:
        return
    if found.st_uid == os.getuid() and found.st_mode & 0o077:
        with contextlib.suppress(OSError):
            path.chmod(mode)
