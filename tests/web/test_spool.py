"""Prepared downloads on disk: a private folder gone at shutdown, a file per download deleted
once forgotten (never under a response about to send it), sent byte for byte."""

from __future__ import annotations

import asyncio
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from console.web.reports import FRESH, Report, Reports
from console.web.serve import start_console
from console.web.spool import PREFIX, Spool, SpooledFile, SpooledResponse
from eventlog import EventLog
from tests.e2e.support import free_port
from workflows.client import GuichetClient

EXPORT = "\ufeffapplication_id;status\r\nPVD-2026-000001;awarded\r\nPVD-2026-000002;clôturé\r\n"
"""What an export writes: a BOM, CRLF line ends, accented text."""


class Download:
    """A prepared download as the portfolio's is: a file, discarded with its report."""

    def __init__(self, file: SpooledFile) -> None:
        self.file = file

    def discard(self) -> None:
        self.file.discard()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def spool() -> Iterator[Spool]:
    """A spool removed after the test."""
    folder = Spool()
    yield folder
    folder.close()


def written(spool: Spool, text: str = EXPORT) -> SpooledFile:
    """A spooled file holding ``text`` as the exports write it."""
    with spool.new_file(".csv") as file, file.open_text() as out:
        out.write(text)
    return file


def test_downloads_go_to_a_folder_only_the_console_opens_and_close_removes_it() -> None:
    """The folder is 0700 and its files 0600 whatever the umask; close removes them all."""
    spool = Spool()
    file = written(spool)
    assert mode(spool.path) == 0o700 and mode(file.path) == 0o600
    assert file.path.parent == spool.path and file.path.read_bytes() == EXPORT.encode()
    spool.close()
    assert not spool.path.exists()


def test_a_download_that_failed_half_way_leaves_no_file(spool: Spool) -> None:
    """An export interrupted (a database outage, a cancellation at shutdown) is not kept."""
    with pytest.raises(RuntimeError), spool.new_file(".csv") as file:
        file.path.write_text("half")
        raise RuntimeError("the database went away")
    assert not file.path.exists() and list(spool.path.iterdir()) == []


async def prepared(reports: Reports, key: str, spool: Spool) -> Report:
    """A finished report whose result is a spooled download."""

    async def compute(_: Report) -> Download:
        return Download(written(spool))

    report = await reports.start(key, compute)
    assert report.task is not None
    await report.task
    return report


async def test_a_download_evicted_is_deleted_from_disk(spool: Spool) -> None:
    """Beyond ``keep`` reports, the oldest one's file goes with it."""
    reports = Reports(keep=1, wait=0)
    first = await prepared(reports, "portefeuille.csv:a", spool)
    path = first.result.file.path
    assert path.exists()
    await prepared(reports, "portefeuille.csv:b", spool)
    assert not path.exists() and reports.find("portefeuille.csv:a") is None
    assert len(list(spool.path.iterdir())) == 1


async def test_a_download_evicted_while_prepared_is_deleted_once_written(spool: Spool) -> None:
    """A report forgotten while it runs still writes its file: deleted as it ends."""
    reports, opened = Reports(keep=1, wait=0), asyncio.Event()

    async def slow(_: Report) -> Download:
        await opened.wait()
        return Download(written(spool))

    running = await reports.start("portefeuille.csv:a", slow)
    await prepared(reports, "portefeuille.csv:b", spool)
    opened.set()
    assert running.task is not None
    await running.task
    await asyncio.sleep(0)  # its done callbacks
    assert len(list(spool.path.iterdir())) == 1 and running.result is None


async def test_a_download_past_its_retention_is_deleted_from_disk(spool: Spool) -> None:
    """Shown for ``FRESH``: kept on disk that long, deleted at the next look after."""
    reports = Reports(wait=0)
    report = await prepared(reports, "portefeuille.csv:a", spool)
    path = report.result.file.path
    assert reports.current("portefeuille.csv:a") is report and path.exists()
    assert report.finished_at is not None
    report.finished_at -= FRESH  # as if a minute had passed
    assert reports.current("portefeuille.csv:a") is None
    assert not path.exists() and report.result is None


async def test_closing_the_reports_stops_those_running_and_deletes_every_download(
    spool: Spool,
) -> None:
    """At shutdown: the finished one's file deleted, the running one cancelled, its file too."""
    reports, never = Reports(wait=0), asyncio.Event()

    async def stuck(_: Report) -> Download:
        with spool.new_file(".csv") as file:
            file.path.write_text("half")
            await never.wait()
        return Download(file)

    done = await prepared(reports, "portefeuille.csv:a", spool)
    running = await reports.start("portefeuille.csv:b", stuck)
    await asyncio.sleep(0)  # it begins writing
    await reports.close()
    assert running.task is not None and running.task.cancelled()
    assert done.result is None and list(spool.path.iterdir()) == []


def app_sending(file: SpooledFile) -> FastAPI:
    """An app whose one address sends ``file`` as the portfolio's download does."""
    app = FastAPI()

    @app.get("/portefeuille.csv")
    async def download() -> Response:
        headers = {"Content-Disposition": 'attachment; filename="portefeuille-actuel.csv"'}
        return SpooledResponse(file, media_type="text/csv; charset=utf-8", headers=headers)

    return app


async def get(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


async def test_a_download_is_sent_byte_for_byte_from_disk(spool: Spool) -> None:
    """The body is the file's bytes (BOM, CRLF, accents), under the same headers as before."""
    file = written(spool, EXPORT * 5000)  # several chunks
    answer = await get(app_sending(file), "/portefeuille.csv")
    assert answer.status_code == 200 and answer.content == (EXPORT * 5000).encode()
    assert answer.headers["content-length"] == str(len((EXPORT * 5000).encode()))
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = answer.headers["content-disposition"]
    assert disposition == 'attachment; filename="portefeuille-actuel.csv"'
    assert file.path.exists()  # sent, not consumed: the next click gets it again


async def test_a_download_discarded_before_its_response_opens_it_is_sent_then_deleted(
    spool: Spool,
) -> None:
    """Evicted between the address's answer and the sending (another auditor's export): sent
    whole all the same, then deleted."""
    file = written(spool)
    response = SpooledResponse(file, media_type="text/csv", headers={})
    file.discard()
    assert file.path.exists()
    sent: list[bytes] = []

    async def receive() -> dict[str, object]:
        await asyncio.Event().wait()  # no disconnect: the client reads to the end
        return {}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message.get("body", b""))  # type: ignore[arg-type]

    scope = {"type": "http", "method": "GET", "headers": [], "asgi": {"spec_version": "2.4"}}
    await response(scope, receive, send)  # type: ignore[arg-type]
    assert b"".join(sent) == EXPORT.encode() and not file.path.exists()


def spools_in(folder: Path) -> list[Path]:
    """The prepared downloads' folders in ``folder``."""
    return list(folder.glob(f"{PREFIX}*"))


async def test_a_console_stopped_while_it_starts_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``guichet dev`` stopped as its console starts: the folder is removed there and then
    (the process leaves through ``os._exit``, past the folder's finaliser)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    log = EventLog.from_url(f"sqlite+aiosqlite:///{tmp_path / 'log.sqlite3'}")
    starting = asyncio.create_task(start_console(cast(GuichetClient, None), log, port=free_port()))
    await asyncio.sleep(0)  # it built its services and waits for uvicorn to listen
    assert len(spools_in(tmp_path)) == 1
    starting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await starting
    await log.close()
    assert spools_in(tmp_path) == []
