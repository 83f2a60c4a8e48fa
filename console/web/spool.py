"""Prepared downloads kept on disk, not in the console's memory.

A portfolio export of a large log weighs tens of MB, and the console keeps up to
``reports.KEEP`` of them: held as bytes, they took hundreds of MB of the process. Each is
written instead to a file in a folder of its own that only the console's user may open (0700,
files 0600: the exports name every file's commune and amounts), deleted once its report is
forgotten (evicted, or past its retention), the whole folder at shutdown. ``SpooledResponse``
sends one from disk.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO

from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

PREFIX = "guichet-downloads-"
"""How the folder's name begins, in the temporary directory (``TMPDIR``, else ``/tmp``)."""


class SpooledFile:
    """One prepared download's bytes, on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._readers = 0
        self._discarded = False

    def open_text(self) -> IO[str]:
        """The file opened for the exports' text: UTF-8, line ends as written (CSV's CRLF)."""
        return self.path.open("w", encoding="utf-8", newline="")

    def discard(self) -> None:
        """Delete the file, once the responses about to send it have opened it (an open file
        is read to its end after its deletion)."""
        self._discarded = True
        if self._readers == 0:
            self.path.unlink(missing_ok=True)

    def lease(self) -> None:
        """A response will read the file: ``discard`` waits for its ``release``."""
        self._readers += 1

    def release(self) -> None:
        """The response sent the file, or gave up: deleted now if it was discarded meanwhile."""
        self._readers -= 1
        if self._discarded:
            self.discard()


class Spool:
    """The private folder of this console process's prepared downloads."""

    def __init__(self) -> None:
        # mkdtemp: 0700 whatever the umask. Removed by close(), else by a finaliser at exit.
        self._folder = tempfile.TemporaryDirectory(prefix=PREFIX)
        self.path = Path(self._folder.name)

    @contextlib.contextmanager
    def new_file(self, suffix: str) -> Iterator[SpooledFile]:
        """A new empty file (0600) to write a download to, deleted if the block fails or is
        cancelled: a half-written export is never kept."""
        descriptor, name = tempfile.mkstemp(suffix=suffix, dir=self.path)
        os.close(descriptor)
        spooled = SpooledFile(Path(name))
        try:
            yield spooled
        except BaseException:
            spooled.discard()
            raise

    def close(self) -> None:
        """Remove the folder and every download in it: at shutdown."""
        self._folder.cleanup()


class SpooledResponse(FileResponse):
    """A spooled file sent from disk (``FileResponse``: in chunks, HEAD and ranges too), which
    its report's eviction does not delete before it is opened (a 500 otherwise). A response
    built but never sent keeps its file until the spool is closed."""

    def __init__(
        self, spooled: SpooledFile, *, media_type: str, headers: Mapping[str, str]
    ) -> None:
        super().__init__(spooled.path, media_type=media_type, headers=headers)
        spooled.lease()
        self._spooled = spooled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._spooled.release()
