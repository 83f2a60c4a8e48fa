"""`guichet dev` on a state folder made by an earlier release: the dev server's
``--search-attribute`` flags register keys only when its database file is created, so the keys
added since are added when it starts."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import Client

from console.devserver import start_dev_server
from tests.e2e.support import free_port
from workflows import search
from workflows.namespace_check import search_attribute_problems

pytestmark = pytest.mark.temporal


async def test_a_state_folder_made_before_a_key_existed_gets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It used to wait 60 s for the key, then stop: « did not start within 60 s »."""
    before_funders = tuple(key for key in search.ALL_KEYS if key is not search.FUNDERS)
    monkeypatch.setattr(search, "ALL_KEYS", before_funders)
    earlier = await start_dev_server(
        tmp_path, ip="127.0.0.1", port=free_port(), ui_port=free_port()
    )
    assert earlier.added_search_attributes == ()  # the flags registered them
    await earlier.stop()
    monkeypatch.undo()
    server = await start_dev_server(tmp_path, ip="127.0.0.1", port=free_port(), ui_port=free_port())
    try:
        client = await Client.connect(server.address)
        assert await search_attribute_problems(client) == []
        assert server.added_search_attributes == ("GuichetFunders",)  # `guichet dev` says so
    finally:
        await server.stop()
