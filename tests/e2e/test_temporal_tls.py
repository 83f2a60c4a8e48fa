"""Temporal over TLS and mutual TLS, as Temporal Cloud and locked-down clusters require.

The dev server speaks plain gRPC only, so a TLS front started here (a test CA, a server
certificate, an optional client certificate) stands before it, as a cluster's TLS frontend
or a Cloud endpoint would. Guichet reads the SDK's standard variables (``TEMPORAL_TLS_*``,
``workers.connection.temporal_security``) and must reach the server through it, and only
through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.worker import Worker

from console.devserver import temporal_binary
from tests.certificates import issue
from tests.polling import eventually
from workers.connection import connect
from workers.settings import Settings
from workflows.registration import workflow_classes

pytestmark = [pytest.mark.temporal]

HEALTHCHECK = Path(__file__).resolve().parents[2] / "deploy" / "healthcheck.sh"


@dataclass(frozen=True)
class Pki:
    """PEM files of a test CA, the front's certificate and a client's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca = issue("test-ca", folder, ca=True)
    server = issue("frontend", folder, by=ca)
    client = issue("guichet-worker", folder, by=ca)
    return Pki(ca.cert_path, server.cert_path, server.key_path, client.cert_path, client.key_path)


@contextlib.asynccontextmanager
async def tls_front(backend: str, pki: Pki, *, mutual: bool) -> AsyncIterator[str]:
    """A TLS endpoint (HTTP/2 by ALPN, as gRPC wants) relaying bytes to ``backend``; with
    ``mutual``, it takes only clients whose certificate the test CA signed."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki.server_cert, pki.server_key)
    context.set_alpn_protocols(["h2"])
    if mutual:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(pki.ca)
    host, port = backend.rsplit(":", 1)

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def serve(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(host, int(port))
        await asyncio.gather(relay(client_r, server_w), relay(server_r, client_w))

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


async def _reaches(address: str) -> int:
    """How many workflows the server behind ``address`` holds: an answer proves the way."""
    client = await asyncio.wait_for(connect(Settings(temporal_address=address)), 20)
    return (await client.count_workflows()).count


async def test_the_server_ca_is_enough_for_a_tls_frontend(
    dev_server: str, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TEMPORAL_TLS_SERVER_CA_CERT_PATH: the front's certificate is checked against it, and
    the plain gRPC Guichet spoke before cannot pass the front."""
    async with tls_front(dev_server, pki, mutual=False) as front:
        with pytest.raises((RuntimeError, TimeoutError)):
            await _reaches(front)  # plain gRPC against a TLS port
        monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(pki.ca))
        assert await _reaches(front) >= 0


async def test_mutual_tls_takes_the_client_certificate(
    dev_server: str, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TEMPORAL_TLS_CLIENT_CERT_PATH and _KEY_PATH: a front that requires a client
    certificate lets Guichet in with it, and not without."""
    monkeypatch.setenv("TEMPORAL_TLS_SERVER_CA_CERT_PATH", str(pki.ca))
    async with tls_front(dev_server, pki, mutual=True) as front:
        with pytest.raises((RuntimeError, TimeoutError)):
            await _reaches(front)
        monkeypatch.setenv("TEMPORAL_TLS_CLIENT_CERT_PATH", str(pki.client_cert))
        monkeypatch.setenv("TEMPORAL_TLS_CLIENT_KEY_PATH", str(pki.client_key))
        assert await _reaches(front) >= 0


async def _healthcheck(env: dict[str, str]) -> int:
    """The container's health check (``deploy/healthcheck.sh``), run as the image runs it:
    the ``temporal`` CLI on the PATH, the connection from the environment."""
    path = f"{temporal_binary().parent}{os.pathsep}{os.environ.get('PATH', '')}"
    process = await asyncio.create_subprocess_exec(
        "sh",
        str(HEALTHCHECK),
        env={**env, "PATH": path, "HOME": os.environ.get("HOME", "/tmp")},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), 30)


async def test_the_health_check_reaches_temporal_through_mutual_tls(
    dev_server: str, pki: Pki
) -> None:
    """The health check asks Temporal whether this container polls its task queue, with the
    same TEMPORAL_TLS_* variables as the worker: healthy through a mutual-TLS front while a
    worker polls, unhealthy for a queue nobody polls or without the client certificate."""
    queue = f"health-{uuid.uuid4().hex[:8]}"
    tls = {
        "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(pki.ca),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(pki.client_cert),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(pki.client_key),
    }
    client = await connect(Settings(temporal_address=dev_server))
    async with tls_front(dev_server, pki, mutual=True) as front:
        checked = {"TEMPORAL_ADDRESS": front, "GUICHET_TASK_QUEUE": queue, **tls}
        assert await _healthcheck(checked) != 0  # nobody polls the queue yet
        async with Worker(client, task_queue=queue, workflows=workflow_classes()):

            async def healthy() -> bool:
                return await _healthcheck(checked) == 0

            await eventually(healthy, seconds=30, every=0.5)
            without_certificate = {
                k: v for k, v in checked.items() if k != "TEMPORAL_TLS_CLIENT_CERT_PATH"
            }
            assert await _healthcheck(without_certificate) != 0
            other_queue = {**checked, "GUICHET_TASK_QUEUE": f"{queue}-other"}
            assert await _healthcheck(other_queue) != 0
