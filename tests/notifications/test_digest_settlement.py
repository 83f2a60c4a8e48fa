"""The caseworker's digest lists a file whose completion deadline expired until it is settled.

The file is a real one: it runs to that expiry on the time-skipping server, its events in the
PostgreSQL log. Its listing goes through the dev server's visibility, where a stand-in under
the same id publishes what the file published (``ProbeFileWorkflow``): the time-skipping server
has no visibility (``ListWorkflowExecutions`` is unimplemented there), and the dev server
cannot skip the six years to the expiry.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities.digest import DigestActivities, DigestRequest
from domain.commands import DeclareStart, SettleAfterCompletionDeadline
from domain.deadline import day_of
from domain.french import COMMAND, last_day
from domain.notices import Notice
from tests.conftest import start_dev_server
from tests.notifications.probe import ProbeFileWorkflow
from tests.notifications.probe_file import ProbeFile
from tests.polling import eventually
from tests.workflow.conftest import Stack
from tests.workflow.scenarios import AGENT, ALICE, NOW, wait_until
from tests.workflow.test_deadlines import award
from workflows import search
from workflows.client import GuichetClient
from workflows.grant_application import GrantApplicationWorkflow
from workflows.visibility import RUNNING, SETTLEABLE_QUERY

pytestmark = [pytest.mark.temporal, pytest.mark.postgres]


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    """One dev server for the module, with Guichet's search attributes registered."""
    env = await start_dev_server()
    yield env
    await env.shutdown()


async def expired_in_its_works(stack: Stack) -> tuple[str, datetime]:
    """A real file awarded, its works started, then four years and a month later: its
    completion deadline expired, no claim made. Its id, and when the deadline expired."""
    app_id = await award(stack)
    started_on = day_of(await stack.env.get_current_time(), paris=True)
    await stack.guichet.act(app_id, DeclareStart(actor=AGENT, at=NOW, started_on=started_on))
    await stack.env.sleep(timedelta(days=4 * 365 + 30))
    await wait_until(stack.guichet, app_id, lambda s: "completion" in s.expired_deadlines)
    (expired,) = [
        record
        for record in await stack.log.read_stream(app_id)
        if record.type == "DeadlineExpired" and record.data["kind"] == "completion"
    ]
    return app_id, datetime.fromisoformat(expired.data["due_at"])


async def published_by(stack: Stack, app_id: str, due_at: datetime) -> ProbeFile:
    """What the real file publishes now, as a stand-in publishes it: its works' status and,
    its completion deadline published until it expired, no deadline any more."""
    client = stack.env.client
    described = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=app_id)
        )
    )
    # Read as a listing reads them: the SDK's typed reading of this server's Datetime fails.
    fields = described.workflow_execution_info.search_attributes.indexed_fields
    published = search.decoded(fields)
    assert published[search.STATUS.name] == "started"
    assert search.NEXT_DEADLINE.name not in published
    return ProbeFile(
        status="started",
        caseworker=published[search.CASEWORKER.name],
        department=published[search.DEPARTMENT.name],
        programme=published[search.PROGRAMME.name],
        insee=published[search.INSEE.name],
        last_activity=published[search.LAST_ACTIVITY.name],
        next_deadline=due_at,
        deadline_expired=True,
    )


async def digests(stack: Stack, guichet: GuichetClient) -> tuple[Notice, ...]:
    """The schedule's activity, as the worker builds it (the log read), at the file's time."""
    activities = DigestActivities(
        guichet, log=stack.log, catalogue=stack.catalogue, registry=stack.registry
    )
    request = DigestRequest(at=await stack.env.get_current_time())
    return (await ActivityEnvironment().run(activities.collect_digests, request)).notices


async def test_the_caseworker_s_digest_lists_a_file_to_settle_until_it_is_settled(
    dev_env: WorkflowEnvironment, stack: Stack
) -> None:
    """After the completion deadline no claim is accepted and nothing is due: the file waited
    for its caseworker, whose digest never named it. Its own section lists it, from its
    state in the log, with what to do; once settled it is gone, though visibility, not told
    yet, still lists it in its works."""
    task_queue = f"probe-{uuid.uuid4().hex[:8]}"
    async with (
        stack.worker(),
        Worker(dev_env.client, task_queue=task_queue, workflows=[ProbeFileWorkflow]),
    ):
        app_id, due_at = await expired_in_its_works(stack)
        stand_in = await dev_env.client.start_workflow(
            ProbeFileWorkflow.run,
            await published_by(stack, app_id, due_at),
            id=app_id,
            task_queue=task_queue,
        )
        guichet = GuichetClient(dev_env.client)
        try:

            async def listed_to_settle() -> bool:  # once its deadline is unset
                query = f"{RUNNING} AND {SETTLEABLE_QUERY} AND WorkflowId = '{app_id}'"
                return bool(await guichet.list(query))

            await eventually(listed_to_settle)
            now = await stack.env.get_current_time()
            (to_alice,) = [n for n in await digests(stack, guichet) if n.recipient == ALICE.id]
            assert to_alice.subject.endswith("— 1 dossier à solder")
            days = (now - due_at).days
            assert (
                "\nDossiers à solder, délai d'achèvement des travaux expiré :\n"
                f"- {app_id} (Valserhône, « Subvention d'investissement de l'État "
                "(DETR / DSIL) », travaux commencés) : délai expiré à la fin du "
                f"{last_day(due_at)} (il y a {days} jours)\n"
                "Aucune demande de paiement n'y est plus recevable (CGCT R2334-29) : soldez "
                f"chacun depuis sa page (« {COMMAND['SettleAfterCompletionDeadline']} ») sur "
                "la dépense éligible justifiée.\n"
            ) in to_alice.body

            await stack.guichet.act(
                app_id,
                SettleAfterCompletionDeadline(
                    actor=ALICE, at=NOW, eligible_expense_cents=0, proof_reference=None
                ),
            )
            real = stack.env.client.get_workflow_handle_for(GrantApplicationWorkflow.run, app_id)
            assert (await real.result()).status == "closed"
            assert await listed_to_settle()  # the stand-in still publishes it in its works
            assert all(app_id not in notice.body for notice in await digests(stack, guichet))
        finally:
            await stand_in.terminate("test over")
