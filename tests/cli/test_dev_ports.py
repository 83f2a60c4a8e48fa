"""`guichet dev` checks its ports before starting Temporal's dev server, which otherwise dies
at startup with a Go stack trace in its log."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from console.cli import run
from console.devserver import port_in_use

LOCALHOST = "127.0.0.1"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as server:
        server.bind((LOCALHOST, 0))
        server.listen()
        yield server


def test_a_port_something_listens_on_is_in_use(listener: socket.socket) -> None:
    assert port_in_use(LOCALHOST, listener.getsockname()[1])


def test_a_port_held_by_an_open_connection_is_in_use(listener: socket.socket) -> None:
    """The source port of a connection: nothing answers on it, yet no server can listen there
    (what a CI run met when the kernel gave a test's port to an outgoing connection)."""
    with socket.socket() as client:
        client.bind((LOCALHOST, 0))
        client.connect(listener.getsockname())
        held = client.getsockname()[1]
        accepted, _ = listener.accept()
        with accepted:
            assert port_in_use(LOCALHOST, held)


def test_a_port_nobody_holds_is_free() -> None:
    with socket.socket() as probe:
        probe.bind((LOCALHOST, 0))
        port = probe.getsockname()[1]
    assert not port_in_use(LOCALHOST, port)


def test_the_console_on_a_taken_port_says_so_before_starting(
    listener: socket.socket, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`guichet console --port P` with P taken: exit 1 and one sentence, not uvicorn's exit 3."""
    monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # never reached: the port comes first
    port = listener.getsockname()[1]
    assert run(["console", "--port", str(port)]) == 1
    _, err = capsys.readouterr()
    assert err.startswith(f"guichet: the console cannot listen on {LOCALHOST}:{port} (")
    assert err.endswith("stop what uses that port or pass another --port\n")
