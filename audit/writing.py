"""Writing the files auditors keep: whole or not at all.

An export or a checkpoints file that stopped half-way (a full disk, the log gone mid-read,
Ctrl-C) must not be left behind looking complete, nor destroy the complete one it was
replacing: the text goes to a hidden file beside the target, which takes the target's name
only once it is entirely written and on disk.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Protocol, TextIO


class Writer(Protocol):
    """Where exports write their text: an open file, stdout, or a wrapper around them."""

    def write(self, text: str, /) -> int: ...


class Replacement:
    """A text file (UTF-8, newlines untranslated, for CSV) that takes ``path``'s place when
    its ``with`` block ends without an error; on an error ``path`` is left as it was.

    Creating it raises the ``OSError`` of a folder that is missing or not writable, before
    any work. A target that exists and is not a regular file (``/dev/stdout``, a pipe) is
    written directly: there is nothing to replace.
    """

    def __init__(self, path: Path) -> None:
        self._target = path.resolve()  # through a symbolic link, as opening the link would
        self._part: Path | None = None
        if self._target.exists() and not self._target.is_file():
            self._handle = self._target.open("w", encoding="utf-8", newline="")
            return
        self._part = self._target.with_name(f".{self._target.name}.{secrets.token_hex(4)}.part")
        descriptor = os.open(self._part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._handle = open(descriptor, "w", encoding="utf-8", newline="")  # noqa: SIM115

    def __enter__(self) -> TextIO:
        return self._handle

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        part, self._part = self._part, None
        if part is None:
            self._handle.close()
            return
        try:
            if kind is None:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()
                if self._target.exists():
                    shutil.copymode(self._target, part)
                os.replace(part, self._target)
        finally:
            with contextlib.suppress(OSError):  # already failing: that error is the one to say
                self._handle.close()
            part.unlink(missing_ok=True)
