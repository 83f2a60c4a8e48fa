"""Temporal over TLS and mutual TLS, as Temporal Cloud and locked-down clusters require.

The dev server speaks plain gRPC only, so a TLS front started here (a test CA, a server
certificate, an optional client certificate) stands before it, as a cluster's TLS frontend
or a Cloud endpoint would. Guichet reads the SDK's standard variables (``TEMPORAL_TLS_*``,
``worker.temporal_security``) and must reach the server through it, and only through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from worker import Settings, connect

pytestmark = [pytest.mark.temporal]


@dataclass(frozen=True)
class Pki:
    """PEM files of a test CA, the front's certificate and a client's."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _issue(
    name: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None, folder: Path
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, signer = issuer or (subject, key)
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    certificate = builder.sign(signer, hashes.SHA256())
    cert_path, key_path = folder / f"{name}.crt", folder / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate, key, cert_path, key_path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    ca, ca_key, ca_path, _ = _issue("test-ca", None, folder)
    _, _, server_cert, server_key = _issue("frontend", (ca.subject, ca_key), folder)
    _, _, client_cert, client_key = _issue("guichet-worker", (ca.subject, ca_key), folder)
    return Pki(ca_path, server_cert, server_key, client_cert, client_key)


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
