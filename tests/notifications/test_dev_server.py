"""On the Temporal dev server (visibility and schedules, real time): `guichet list` deadline
filters, the daily digest schedule and the hourly redelivery delivering to a local SMTP
server."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import (
    Client,
    ScheduleDescription,
    WorkflowExecution,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker
from typer.testing import CliRunner

from activities import digest
from activities.digest import DigestActivities, DigestRequest
from activities.directory import MappingDirectory
from activities.mail import SmtpMailer
from activities.outbox import Outbox, outbox
from activities.recording import IdentifiedEvent, to_new_event
from console import dev, notices, people  # noqa: F401 (they register their commands)
from console.app import app
from domain.actor import Actor
from domain.catalogue import load_catalogue
from domain.commands import (
    Command,
    DecideFunding,
    DeclareComplete,
    ExpireDeadline,
    SubmitApplication,
)
from domain.digest import CASEWORKERS_POOL
from domain.plan import FinancingPlan
from domain.registry import load_registry
from eventlog import EventLog
from tests.conftest import start_dev_server
from tests.notifications.conftest import SmtpServer, batch_of, notice, queue, rows
from tests.notifications.probe import ProbeFileWorkflow
from tests.notifications.probe_file import ProbeFile
from tests.polling import eventually
from tests.unit.builders import (
    BDT_OFFICER,
    CASEWORKER,
    DETR_OFFICER,
    SYSTEM,
    detr_plan,
    history,
    line,
    request,
    submit,
)
from worker import build_worker
from workflows.client import GuichetClient
from workflows.digest_schedule import DIGEST_SCHEDULE_ID, ensure_digest_schedule
from workflows.listing import ApplicationSummary
from workflows.redelivery_schedule import REDELIVERY_SCHEDULE_ID, ensure_redelivery_schedule
from workflows.visibility import deadline_query

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]
KIND = "cofinancer_decision"


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One dev server for the module, with Guichet's search attributes registered."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


class Files:
    """Starts probe files on a worker of their own; terminates them afterwards."""

    def __init__(self, client: Client, task_queue: str) -> None:
        self.client = client
        self.task_queue = task_queue
        self.handles: list[WorkflowHandle[ProbeFileWorkflow, None]] = []

    async def start(self, name: str, file: ProbeFile) -> str:
        return await self.start_as(f"{name}-{uuid.uuid4().hex[:8]}", file)

    async def start_as(self, workflow_id: str, file: ProbeFile) -> str:
        """A probe under this exact id (a file whose events a test put in the log)."""
        self.handles.append(
            await self.client.start_workflow(
                ProbeFileWorkflow.run, file, id=workflow_id, task_queue=self.task_queue
            )
        )
        return workflow_id


@pytest.fixture
async def files(dev_env: WorkflowEnvironment) -> AsyncIterator[Files]:
    task_queue = f"probe-{uuid.uuid4().hex[:8]}"
    probes = Files(dev_env.client, task_queue)
    async with Worker(dev_env.client, task_queue=task_queue, workflows=[ProbeFileWorkflow]):
        yield probes
        for handle in probes.handles:
            await handle.terminate("test over")


async def listed(guichet: GuichetClient, query: str) -> set[str]:
    return {row.application_id for row in await guichet.list(query)}


async def test_list_filters_files_by_their_next_deadline(
    dev_env: WorkflowEnvironment, files: Files
) -> None:
    """--due-within and --overdue select on GuichetNextDeadline, with the other filters."""
    now = datetime.now(UTC)
    cw = f"cw-{uuid.uuid4().hex[:6]}"
    late = await files.start(
        "late", ProbeFile(caseworker=cw, department="01", next_deadline=now - timedelta(days=2))
    )
    soon = await files.start(
        "soon", ProbeFile(caseworker=cw, department="01", next_deadline=now + timedelta(days=3))
    )
    await files.start("later", ProbeFile(caseworker=cw, next_deadline=now + timedelta(days=20)))
    await files.start("none", ProbeFile(caseworker=cw))
    other = await files.start(
        "other",
        ProbeFile(
            caseworker="someone-else", department="01", next_deadline=now + timedelta(days=1)
        ),
    )
    guichet = GuichetClient(dev_env.client)
    mine = f"GuichetCaseworker = '{cw}'"

    async def all_visible() -> bool:
        # Visibility is eventually consistent: wait for the other caseworker's file too.
        theirs = await listed(guichet, "GuichetCaseworker = 'someone-else'")
        return len(await listed(guichet, mine)) == 4 and other in theirs

    await eventually(all_visible)
    week = timedelta(days=7)
    due = deadline_query(now, due_within=week, overdue=False)
    overdue = deadline_query(now, due_within=None, overdue=True)
    either = deadline_query(now, due_within=week, overdue=True)
    assert await listed(guichet, f"{mine} AND {due}") == {soon}
    assert await listed(guichet, f"{mine} AND {overdue}") == {late}
    assert await listed(guichet, f"{mine} AND {either}") == {late, soon}
    assert other in await listed(guichet, f"GuichetDepartment = '01' AND {due}")

    address = dev_env.client.service_client.config.target_host
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["list", "--caseworker", cw, "--due-within", "7d", "--overdue", "--json"],
        env={"TEMPORAL_ADDRESS": address},
    )
    assert result.exit_code == 0, result.output
    shown = {row["application_id"]: row for row in json.loads(result.stdout)}
    assert set(shown) == {late, soon}
    assert shown[soon]["next_deadline"].startswith(f"{now + timedelta(days=3):%Y-%m-%d}")

    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["list", "--department", "01", "--overdue"],
        env={"TEMPORAL_ADDRESS": address},
    )
    assert result.exit_code == 0, result.output
    assert late in result.stdout and soon not in result.stdout


async def test_the_digest_schedule_mails_each_caseworker_their_files(
    dev_env: WorkflowEnvironment, files: Files, event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Triggered, the schedule's run lists, groups and mails one digest per caseworker."""
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:6]
    alice, bob = f"alice-{suffix}", f"bob-{suffix}"
    stale = await files.start(
        "stale",
        ProbeFile(caseworker=alice, programme="dsil", last_activity=now - timedelta(days=10)),
    )
    due = await files.start(
        "due",
        ProbeFile(
            caseworker=alice,
            programme="dsil",
            last_activity=now - timedelta(days=1),
            next_deadline=now + timedelta(days=2),
        ),
    )
    fresh = await files.start(
        "fresh", ProbeFile(caseworker=alice, last_activity=now - timedelta(days=1))
    )
    late = await files.start(
        "late", ProbeFile(caseworker=bob, next_deadline=now - timedelta(days=1))
    )
    unassigned = await files.start("unassigned", ProbeFile(last_activity=now - timedelta(days=30)))
    in_works = await files.start(  # idle a month, but waiting on the commune's works
        "works",
        ProbeFile(caseworker=alice, status="started", last_activity=now - timedelta(days=30)),
    )
    guichet = GuichetClient(dev_env.client)

    async def all_visible() -> bool:
        ids = await listed(guichet, "")
        return {stale, due, fresh, late, unassigned, in_works} <= ids

    await eventually(all_visible)
    task_queue = f"digest-{suffix}"
    worker = build_worker(
        dev_env.client,
        task_queue=task_queue,
        log=event_log,
        registry=load_registry(),
        catalogue=load_catalogue(),
        mailer=SmtpMailer(smtp_server.settings),
        directory=MappingDirectory({alice: ["alice@ain.example.fr"], bob: ["bob@ain.example.fr"]}),
    )
    async with worker:
        handle = await ensure_digest_schedule(dev_env.client, task_queue)
        try:
            await handle.trigger()
            received = await smtp_server.recorder.wait_for(2)
        finally:
            await handle.delete()

    by_rcpt = {tuple(r.rcpt_tos): r.message for r in received}
    assert set(by_rcpt) == {("alice@ain.example.fr",), ("bob@ain.example.fr",)}
    to_alice = by_rcpt[("alice@ain.example.fr",)]
    body = to_alice.get_content()
    assert to_alice["Subject"].endswith("1 dossier à traiter, 1 échéance")
    assert re.fullmatch(r"<[0-9a-f-]{36}@pvd\.example\.fr>", to_alice["Message-ID"])
    assert stale in body and due in body
    assert fresh not in body and late not in body and unassigned not in body
    assert in_works not in body
    to_bob = by_rcpt[("bob@ain.example.fr",)].get_content()
    assert late in to_bob and "échéance dépassée" in to_bob
    outbox = await rows(event_log)
    assert {row.recipient for row in outbox.values()} >= {alice, bob}
    # The file no one took is in the pool's digest (the directory gives the pool no address).
    pooled = [row for row in outbox.values() if row.recipient == CASEWORKERS_POOL]
    assert any(unassigned in row.body for row in pooled)
    assert all(row.application_id.startswith(DIGEST_SCHEDULE_ID) for row in outbox.values())
    mine = [row for row in outbox.values() if row.recipient in {alice, bob}]
    assert all(row.delivered_at is not None for row in mine)


async def test_ensuring_the_digest_schedule_updates_it_in_place_and_keeps_a_pause(
    dev_env: WorkflowEnvironment,
) -> None:
    """Called at every start: one schedule, the latest hour and queue, an operator's pause kept."""
    client = dev_env.client
    handle = await ensure_digest_schedule(client, "queue-a")
    try:
        again = await ensure_digest_schedule(client, "queue-a")  # unchanged: no update
        assert again.id == handle.id == DIGEST_SCHEDULE_ID
        await handle.pause(note="maintenance")

        async def paused() -> bool:  # the scheduler applies a pause a moment after it returns
            return (await handle.describe()).schedule.state.paused

        await eventually(paused)
        await ensure_digest_schedule(client, "queue-b", hour=8)

        async def updated() -> ScheduleDescription | None:  # an update is applied late too
            described = await handle.describe()
            queue = described.schedule.action.task_queue  # type: ignore[attr-defined]
            return described if queue == "queue-b" else None

        described = await eventually(updated)
        spec = described.schedule.spec
        assert spec.time_zone_name == "Europe/Paris"
        assert [(r.start, r.end) for r in spec.calendars[0].hour] == [(8, 8)]
        assert described.schedule.state.paused
    finally:
        await handle.delete()


async def test_ensuring_an_unchanged_schedule_sends_no_update_and_cannot_undo_a_pause(
    dev_env: WorkflowEnvironment,
) -> None:
    """``guichet schedules`` runs again at each deploy: with nothing to change, it sends no
    update, the only way a pause made meanwhile could be undone (the SDK's update puts back
    the state it read, with no conflict token)."""
    client = dev_env.client
    handle = await ensure_digest_schedule(client, "queue-a")
    try:
        await handle.pause(note="maintenance")

        async def paused() -> bool:
            return (await handle.describe()).schedule.state.paused

        await eventually(paused)
        again = await ensure_digest_schedule(client, "queue-a")
        assert again.id == handle.id
        described = await handle.describe()
        assert described.info.last_updated_at is None  # never updated, only paused
        assert described.schedule.state.paused and described.schedule.state.note == "maintenance"
    finally:
        await handle.delete()


async def test_the_redelivery_schedule_sends_what_a_file_gave_up_on(
    dev_env: WorkflowEnvironment, event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Triggered, the hourly schedule's run delivers a notice queued 20 hours ago that its
    file's delivery gave up on; ensured again, the schedule keeps an operator's pause."""
    batch = batch_of(notice("maire@oyonnax.example.fr"))
    box = Outbox(event_log.engine, mailer=SmtpMailer(smtp_server.settings))
    await queue(box, batch)
    async with event_log.engine.begin() as conn:
        await conn.execute(
            outbox.update().values(created_at=datetime.now(UTC) - timedelta(hours=20))
        )
    task_queue = f"redelivery-{uuid.uuid4().hex[:8]}"
    worker = build_worker(
        dev_env.client,
        task_queue=task_queue,
        log=event_log,
        registry=load_registry(),
        catalogue=load_catalogue(),
        mailer=SmtpMailer(smtp_server.settings),
    )
    async with worker:
        handle = await ensure_redelivery_schedule(dev_env.client, task_queue)
        try:
            await handle.trigger()
            (received,) = await smtp_server.recorder.wait_for(1)
            await handle.pause(note="mail server maintenance")

            async def paused() -> bool:  # applied by the scheduler a moment after it returns
                return (await handle.describe()).schedule.state.paused

            await eventually(paused)
            again = await ensure_redelivery_schedule(dev_env.client, task_queue)
            described = await again.describe()
        finally:
            await handle.delete()
    assert received.rcpt_tos == ["maire@oyonnax.example.fr"]
    assert (await rows(event_log))[batch.notices[0].message_id].delivered_at is not None
    assert again.id == REDELIVERY_SCHEDULE_ID
    assert described.schedule.state.paused
    assert described.schedule.spec.intervals[0].every == timedelta(hours=1)


async def test_guichet_schedules_creates_both_and_refuses_a_wrong_hour(
    dev_env: WorkflowEnvironment,
) -> None:
    """The deployment command ensures the digest and the redelivery schedules (twice is
    fine), starts a digest at once when asked; an hour that is not one is a usage error
    naming the option."""
    address = dev_env.client.service_client.config.target_host
    env = {"TEMPORAL_ADDRESS": address, "GUICHET_TASK_QUEUE": "deployed"}
    invoke = CliRunner().invoke
    hour = (datetime.now(ZoneInfo("Europe/Paris")).hour + 12) % 24  # not due while it runs
    args = ["schedules", "--digest-hour", str(hour), "--redeliver-every", "30m"]
    first = await asyncio.to_thread(invoke, app, args, env=env)
    second = await asyncio.to_thread(invoke, app, [*args, "--digest-now"], env=env)
    wrong = await asyncio.to_thread(invoke, app, ["schedules", "--digest-hour", "25"], env=env)
    digest = dev_env.client.get_schedule_handle(DIGEST_SCHEDULE_ID)
    redelivery = dev_env.client.get_schedule_handle(REDELIVERY_SCHEDULE_ID)
    try:
        assert first.exit_code == 0, first.output
        assert second.exit_code == 0, second.output
        assert "every 30m" in second.output
        assert "to each caseworker and to each co-financer" in second.output
        assert "digests: started now" in second.output
        assert "started now" not in first.output

        async def started() -> list[WorkflowExecution]:  # the scheduler starts it a moment after
            query = "WorkflowType = 'DailyDigestWorkflow' AND TaskQueue = 'deployed'"
            return [execution async for execution in dev_env.client.list_workflows(query)]

        assert len(await eventually(started)) == 1  # the trigger's
        digest_spec = (await digest.describe()).schedule.spec
        assert [(r.start, r.end) for r in digest_spec.calendars[0].hour] == [(hour, hour)]
        redelivery_schedule = (await redelivery.describe()).schedule
        assert redelivery_schedule.spec.intervals[0].every == timedelta(minutes=30)
        assert redelivery_schedule.action.task_queue == "deployed"  # type: ignore[attr-defined]
    finally:
        await digest.delete()
        await redelivery.delete()
        async for execution in dev_env.client.list_workflows("TaskQueue = 'deployed'"):
            if execution.status == WorkflowExecutionStatus.RUNNING:
                await dev_env.client.get_workflow_handle(execution.id).terminate("test over")
    assert wrong.exit_code == 2
    assert "--digest-hour 25" in wrong.output


async def record(log: EventLog, application_id: str, commands: list[Command]) -> None:
    """The file's events in the log, as its workflow would have recorded them."""
    submitted, *rest = commands
    assert isinstance(submitted, SubmitApplication)
    events = history([submitted.model_copy(update={"application_id": application_id}), *rest])
    identified = [IdentifiedEvent(event_id=uuid.uuid4(), event=event) for event in events]
    await log.append(application_id, 0, [to_new_event(item) for item in identified])


def dsil_file(received: datetime, plan: FinancingPlan | None = None) -> list[Command]:
    """A DSIL/DETR file of the catalogue received then, complete the day after: each
    co-financer's decision deadline runs two months from there."""
    programme = load_catalogue().get("dsil-detr-investissement")
    assert programme is not None
    submitted = submit(request(plan, programme_id=programme.id), programme=programme, when=received)
    return [
        submitted.model_copy(update={"tracks_deadlines": True}),
        DeclareComplete(actor=CASEWORKER, at=received + timedelta(days=1)),
    ]


def decided(officer: Actor, line_id: str, euros: int, when: datetime) -> DecideFunding:
    return DecideFunding(
        actor=officer, at=when, line_id=line_id, approve=True, granted_cents=euros * 100
    )


async def test_the_digest_schedule_mails_each_co_financer_the_lines_awaiting_its_decision(
    dev_env: WorkflowEnvironment, files: Files, event_log: EventLog, smtp_server: SmtpServer
) -> None:
    """Triggered, the schedule's run reads the files in instruction from the log and mails
    each co-financer's desk its own pending lines, the expired deadline first; a funder that
    decided, a file not complete yet and a file no longer running tell no one."""
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:6]
    ids = {name: f"cof-{name}-{suffix}" for name in ("a", "b", "e", "c", "gone")}
    # a: DETR decided, the region's line waits (due in about two months).
    a = dsil_file(now - timedelta(days=10))
    await record(event_log, ids["a"], [*a, decided(DETR_OFFICER, "detr", 100_000, now)])
    # b: the region's deadline expired a month ago; DETR's too, both wait.
    b = dsil_file(now - timedelta(days=100))
    expiries = [
        ExpireDeadline(actor=SYSTEM, at=now - timedelta(days=30), kind=KIND, subject=line_id)
        for line_id in ("detr", "region")
    ]
    await record(event_log, ids["b"], [*b, *expiries])
    # e: BDT decided its line; the region's waits.
    with_bdt = detr_plan(
        lines=(
            line("owner", "OWNER", 200_000),
            line("bdt", "BDT", 50_000),
            line("region", "REGION", 150_000),
        )
    )
    e = dsil_file(now - timedelta(days=5), with_bdt)
    await record(event_log, ids["e"], [*e, decided(BDT_OFFICER, "bdt", 50_000, now)])
    # c: received, not complete: no decision is expected of anyone yet.
    await record(event_log, ids["c"], dsil_file(now - timedelta(days=3))[:1])
    # gone: in the log, but its workflow does not run (visibility does not list it).
    await record(event_log, ids["gone"], dsil_file(now - timedelta(days=4)))
    for name in ("a", "b", "e"):
        await files.start_as(ids[name], ProbeFile(status="in_instruction"))
    await files.start_as(ids["c"], ProbeFile(status="submitted"))
    guichet = GuichetClient(dev_env.client)

    async def all_visible() -> bool:
        running = await listed(guichet, "ExecutionStatus = 'Running'")
        return {ids[name] for name in ("a", "b", "e", "c")} <= running

    await eventually(all_visible)
    task_queue = f"digest-{suffix}"
    desks = {
        f"cofinancer:{funder}": [f"{funder.lower()}-{suffix}@financeur.example.fr"]
        for funder in ("REGION", "DETR", "BDT")
    }
    worker = build_worker(
        dev_env.client,
        task_queue=task_queue,
        log=event_log,
        registry=load_registry(),
        catalogue=load_catalogue(),
        mailer=SmtpMailer(smtp_server.settings),
        directory=MappingDirectory(desks),
        console_url="https://guichet.example.fr",
    )
    async with worker:
        handle = await ensure_digest_schedule(dev_env.client, task_queue)
        try:
            await handle.trigger()
            received = await smtp_server.recorder.wait_for(2)
        finally:
            await handle.delete()

    by_rcpt = {r.rcpt_tos[0]: r.message for r in received}
    region_mail = by_rcpt[f"region-{suffix}@financeur.example.fr"]
    detr_mail = by_rcpt[f"detr-{suffix}@financeur.example.fr"]
    assert region_mail["Subject"].endswith("3 décisions attendues, dont 1 en retard")
    region = region_mail.get_content()
    listed_order = [row[2:].split(" ", 1)[0] for row in region.splitlines() if row[:2] == "- "]
    assert listed_order[0] == ids["b"] and set(listed_order) == {ids["a"], ids["b"], ids["e"]}
    assert f"- {ids['b']} " in region and "échéance dépassée" in region.splitlines()[4]
    assert "Villebourg (24100)" in region and "ligne « region »" in region
    assert region.rstrip().endswith(
        "Vos dossiers dans Guichet : https://guichet.example.fr/cofinancement"
    )
    detr = detr_mail.get_content()
    assert detr_mail["Subject"].endswith("1 décision attendue, dont 1 en retard")
    assert ids["b"] in detr and ids["a"] not in detr and ids["e"] not in detr
    assert "REGION" not in detr and "BDT" not in detr
    outbox = await rows(event_log)
    assert sorted(
        row.recipient for row in outbox.values() if row.recipient_role == "cofinancer"
    ) == [
        "cofinancer:DETR",
        "cofinancer:REGION",
    ]
    everything = "".join(row.body for row in outbox.values())
    assert ids["c"] not in everything and ids["gone"] not in everything


async def test_the_digest_lists_once_for_both_digests_and_heartbeats_as_it_goes(
    dev_env: WorkflowEnvironment,
    files: Files,
    event_log: EventLog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One visibility listing serves the caseworkers and the co-financers: a file in
    instruction acted on yesterday (not the caseworker's to list) is still folded for its
    funders. The activity heartbeats how far it got, so the workflow's heartbeat timeout,
    not a bound on its length, tells a stuck run."""
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:6]
    alice = f"alice-{suffix}"
    stale = await files.start(
        "stale", ProbeFile(caseworker=alice, last_activity=now - timedelta(days=10))
    )
    awaited = f"cof-fresh-{suffix}"
    await record(event_log, awaited, dsil_file(now - timedelta(days=2)))
    await files.start_as(
        awaited, ProbeFile(status="in_instruction", last_activity=now - timedelta(days=1))
    )
    guichet = GuichetClient(dev_env.client)

    async def both_visible() -> bool:  # their search attributes upserted, not only started
        return {stale, awaited} <= await listed(guichet, "GuichetStatus = 'in_instruction'")

    await eventually(both_visible)
    listings: list[str] = []
    each = guichet.each

    def counted(query: str = "", limit: int | None = None) -> AsyncIterator[ApplicationSummary]:
        listings.append(query)
        return each(query, limit)

    monkeypatch.setattr(guichet, "each", counted)
    monkeypatch.setattr(digest, "HEARTBEAT_EVERY", 1)
    environment = ActivityEnvironment()
    beats: list[dict[str, int]] = []
    environment.on_heartbeat = lambda *details: beats.append(details[0])
    activities = DigestActivities(guichet, log=event_log)

    collected = await environment.run(activities.collect_digests, DigestRequest(at=now))

    assert len(listings) == 1
    assert any(alice in n.recipient and stale in n.body for n in collected.notices)
    region = next(n for n in collected.notices if n.recipient == "cofinancer:REGION")
    assert awaited in region.body
    listed_beats = [beat["listed"] for beat in beats if "listed" in beat]
    assert listed_beats == list(range(1, len(listed_beats) + 1)) and len(listed_beats) >= 2
    reads = [beat for beat in beats if "read" in beat]
    assert reads and reads[-1]["read"] == reads[-1]["from_log"] >= 2
