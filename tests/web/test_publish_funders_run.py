"""`guichet publish-funders` when the workers are not all of this release, or not there: it
stops asking, waits for the requests under way, and counts what each file did."""

from __future__ import annotations

import uuid

import pytest
from temporalio.worker import Worker

from console import upgrading
from tests.polling import eventually
from tests.web.conftest import Console, begun_before_funders, signed_in
from tests.workflow.older_releases import ReleaseWithoutPublishFunders
from tests.workflow.scenarios import submission
from workflows.client import GuichetClient
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import WorkflowStart


async def stop(console: Console, ids: list[str]) -> None:
    """Terminate these files: left running without a worker, they would hold up the state
    reads of the other tests' listings."""
    for application_id in ids:
        await console.guichet.temporal.get_workflow_handle(application_id).terminate()


async def untold(console: Console, ids: list[str]) -> int:
    listed = " OR ".join(f"WorkflowId = '{i}'" for i in ids)
    return len(await console.guichet.list(f"({listed}) AND GuichetFunders IS NULL"))


async def test_a_worker_of_the_earlier_release_stops_the_run_and_the_counts_are_exact(
    console: Console,
) -> None:
    """Three files run on this release, two on a worker of the earlier one: the two refuse,
    the three answered are counted (they used to be counted as left, though applied), and
    the run says why it stopped and how many files it did not reach."""
    queue = f"begun-{uuid.uuid4().hex[:6]}"
    held_queue = f"held-{uuid.uuid4().hex[:6]}"
    begun = GuichetClient(console.guichet.temporal, task_queue=queue)
    held = [submission() for _ in range(2)]
    async with (
        begun_before_funders(console, queue),
        Worker(
            console.guichet.temporal,
            task_queue=held_queue,
            workflows=[ReleaseWithoutPublishFunders],
        ),
    ):
        ids = [(await begun.submit(submission()))[0] for _ in range(3)]
        for request in held:
            await console.guichet.temporal.start_workflow(
                GrantApplicationWorkflow.run,
                WorkflowStart(submission=request),
                id=request.application_id,
                task_queue=held_queue,
            )

        async def all_listed() -> bool:
            return await untold(console, ids + [r.application_id for r in held]) == 5

        await eventually(all_listed)
        done = await upgrading.publish_running_funders(console.guichet)

        async def told() -> bool:
            return await untold(console, ids) == 0

        await eventually(told)
        await stop(console, ids + [r.application_id for r in held])
    assert (done.listed, done.published, done.already, done.unanswered) == (5, 3, 0, 0)
    assert (done.refused, done.not_asked) == (2, 0)
    assert "a worker of an earlier release answered" in done.stopped
    said = "\n".join(upgrading.report(done))
    assert "3 of 5 running file(s) now publish their funders" in said
    assert "2 file(s) refused by a worker of the earlier release" in said
    assert "run `guichet publish-funders` again once that is fixed" in said


async def test_without_a_worker_the_run_stops_and_the_request_waits_for_one(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker stopped a moment ago (the server still lists it): the run used to wait for
    its whole limit in silence. Now each file's answer is awaited a minute (a second here),
    the run stops saying so, and run again once a worker is back, it leaves none untold."""
    queue = f"stopped-{uuid.uuid4().hex[:6]}"
    begun = GuichetClient(console.guichet.temporal, task_queue=queue)
    async with begun_before_funders(console, queue):
        application_id, _ = await begun.submit(submission())

        async def listed() -> bool:
            return await untold(console, [application_id]) == 1

        await eventually(listed)
    monkeypatch.setattr(upgrading, "FILE_PATIENCE", 1.0)
    done = await upgrading.publish_running_funders(console.guichet)
    assert done.unanswered >= 1 and "no worker answered" in done.stopped
    assert "got no answer: it may still be applied" in "\n".join(upgrading.report(done))
    monkeypatch.undo()  # a worker back: the file's next task waits out its old sticky queue
    async with begun_before_funders(console, queue):
        again = await upgrading.publish_running_funders(console.guichet)

        async def applied() -> bool:
            return await untold(console, [application_id]) == 0

        await eventually(applied)
        await stop(console, [application_id])
    assert not again.stopped and again.unanswered == 0


async def test_a_listing_reads_the_log_of_a_file_whose_workflow_fails_the_query(
    console: Console,
) -> None:
    """During an upgrade a state query can reach a worker of the other release, which fails
    it: a co-financer's listings answered 500. They now read that file from the log (here a
    file held by a worker that knows no state query, and which recorded nothing)."""
    held_queue = f"held-{uuid.uuid4().hex[:6]}"
    request = submission()
    async with Worker(
        console.guichet.temporal, task_queue=held_queue, workflows=[ReleaseWithoutPublishFunders]
    ):
        handle = await console.guichet.temporal.start_workflow(
            GrantApplicationWorkflow.run,
            WorkflowStart(submission=request),
            id=request.application_id,
            task_queue=held_queue,
        )

        async def listed() -> bool:
            return await untold(console, [request.application_id]) == 1

        await eventually(listed)
        async with signed_in(console, "region") as region:
            queue = await region.get("/dossiers")
            lines = await region.get("/cofinancement")
        await handle.terminate()
    assert (queue.status_code, lines.status_code) == (200, 200), lines.text[-1500:]
    assert request.application_id not in queue.text
