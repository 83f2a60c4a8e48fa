"""With a payload key, Temporal never holds a file's personal data in clear: its history shows
ciphertext, and the key (and only the key) opens it again; the worker, client and replay all
use the same converter."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterable

import pydantic
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from audit.replaying import replayer
from domain.catalogue import load_catalogue
from domain.registry import load_registry
from eventlog import EventLog
from tests.conftest import temporal_test_server_path
from tests.workflow.conftest import register_search_attributes
from tests.workflow.scenarios import submission, wait_until
from worker import build_worker
from workers.settings import Settings
from workflows.client import GuichetClient
from workflows.encryption import (
    ENCODING,
    AesGcmCodec,
    PayloadKeyError,
    data_converter,
    key_from_env,
    parse_key,
)

pytestmark = pytest.mark.temporal

KEY = os.urandom(32)
EMAIL = "maire.adjointe@valserhone.fr"
TITLE = "Réhabilitation confidentielle de la halle"


@pytest.fixture(scope="module")
async def sealed_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server whose client seals every payload with KEY."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(KEY),
        test_server_existing_path=temporal_test_server_path(),
    )
    await register_search_attributes(env.client)
    yield env
    await env.shutdown()


def _payloads(history: WorkflowHistory) -> list[Payload]:
    found: list[Payload] = []

    def walk(value: object) -> None:
        if isinstance(value, Payload):
            found.append(value)
        elif isinstance(value, Message):
            for _field, item in value.ListFields():
                walk(item)
        elif hasattr(value, "values") and not isinstance(value, str | bytes):
            for item in value.values():  # a map field
                walk(item)
        elif isinstance(value, Iterable) and not isinstance(value, str | bytes):
            for item in value:  # a repeated field
                walk(item)

    for event in history.events:
        walk(event)
    return found


async def test_history_holds_no_personal_data_in_clear_and_the_key_opens_it(
    sealed_env: WorkflowEnvironment, pg_url: str, pg_schema: str
) -> None:
    """The raw history has no e-mail or title in clear; every payload decodes with the key."""
    log = EventLog.from_url(pg_url, search_path=pg_schema)
    await log.migrate()
    task_queue = f"sealed-{uuid.uuid4().hex[:8]}"
    guichet = GuichetClient(sealed_env.client, task_queue=task_queue)
    sub = submission()
    sub = sub.model_copy(
        update={
            "request": sub.request.model_copy(
                update={"contact_email": EMAIL, "project_title": TITLE}
            )
        }
    )
    worker = build_worker(
        sealed_env.client,
        task_queue=task_queue,
        log=log,
        registry=load_registry(),
        catalogue=load_catalogue(),
    )
    async with worker:
        app_id, _ = await guichet.submit(sub)
        state = await wait_until(guichet, app_id, lambda s: s.status != "draft")
        assert state.request is not None and state.request.contact_email == EMAIL
        handle = sealed_env.client.get_workflow_handle(app_id)
        history = await handle.fetch_history()
        await handle.terminate("test over")
    await log.close()
    raw = history.to_json()
    for secret in (EMAIL, TITLE, "valserhone", "Réhabilitation"):
        assert secret not in raw
    payloads = _payloads(history)
    # Search attributes and patch markers are written by Temporal itself, in clear by design:
    # they carry public facts only (status, programme, INSEE code, dates, patch ids).
    started = history.events[0].workflow_execution_started_event_attributes
    assert [p.metadata["encoding"] for p in started.input.payloads] == [ENCODING]
    opened = await AesGcmCodec(KEY).decode(payloads)
    assert any(EMAIL.encode() in p.data for p in opened)
    with pytest.raises(PayloadKeyError, match="configure the same key"):
        await AesGcmCodec(os.urandom(32)).decode(payloads)
    replay = await replayer(data_converter(KEY)).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert replay.replay_failure is None


def test_the_key_comes_from_the_environment_or_a_file(tmp_path: object) -> None:
    """GUICHET_PAYLOAD_KEY (base64) or GUICHET_PAYLOAD_KEY_FILE; Settings carries it, hidden."""
    text = base64.b64encode(KEY).decode()
    assert key_from_env({}) is None
    assert key_from_env({"GUICHET_PAYLOAD_KEY": text}) == KEY
    path = tmp_path / "payload.key"  # type: ignore[operator]
    path.write_text(text + "\n")
    assert key_from_env({"GUICHET_PAYLOAD_KEY_FILE": str(path)}) == KEY
    settings = Settings.from_env({"GUICHET_PAYLOAD_KEY": text})
    assert settings.data_converter().payload_codec is not None
    assert text not in repr(settings)
    assert Settings.from_env({}).data_converter().payload_codec is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [("not base64!", "not valid base64"), (base64.b64encode(b"short").decode(), "5 bytes")],
)
def test_an_unusable_key_is_refused_with_a_sentence(text: str, problem: str) -> None:
    """A key that is not 32 bytes of base64 stops the process with what to do."""
    with pytest.raises(PayloadKeyError, match=problem):
        parse_key(text)


async def test_payloads_recorded_before_encryption_stay_readable() -> None:
    """The codec opens what it sealed and lets plain (older) payloads through unchanged."""
    codec = AesGcmCodec(KEY)
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'{"a": 1}')
    sealed = await codec.encode([plain])
    assert sealed[0].data != plain.data
    assert await codec.decode([*sealed, plain]) == [plain, plain]
    tampered = Payload()
    tampered.CopyFrom(sealed[0])
    tampered.data = tampered.data[:-1] + bytes([tampered.data[-1] ^ 1])
    with pytest.raises(PayloadKeyError, match="altered"):
        await codec.decode([tampered])


def test_validation_failures_still_fail_the_workflow_not_its_task() -> None:
    """The sealed replayer keeps the production failure types (sdk-python #815)."""
    assert (
        pydantic.ValidationError
        in replayer(data_converter(KEY)).config()["workflow_failure_exception_types"]
    )
