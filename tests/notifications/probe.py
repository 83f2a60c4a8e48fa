"""A stand-in for a grant file on the dev server: it upserts the search attributes it is
given, as GrantApplicationWorkflow does, then waits to be terminated.

Registered under the name ``GrantApplicationWorkflow`` (on its own task queue) so that
``GuichetClient.list`` lists it: listing and the digest are tested without depending on the
grant workflow's deadline work.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from tests.notifications.probe_file import ProbeFile
    from workflows import search


@workflow.defn(name="GrantApplicationWorkflow")
class ProbeFileWorkflow:
    """Publishes a file's search attributes and stays running."""

    @workflow.run
    async def run(self, file: ProbeFile) -> None:
        updates = [search.STATUS.value_set(file.status)]
        if file.caseworker is not None:
            updates.append(search.CASEWORKER.value_set(file.caseworker))
        if file.department is not None:
            updates.append(search.DEPARTMENT.value_set(file.department))
        if file.programme is not None:
            updates.append(search.PROGRAMME.value_set(file.programme))
        if file.insee is not None:
            updates.append(search.INSEE.value_set(file.insee))
        if file.next_deadline is not None:
            updates.append(search.NEXT_DEADLINE.value_set(file.next_deadline))
        if file.last_activity is not None:
            updates.append(search.LAST_ACTIVITY.value_set(file.last_activity))
        workflow.upsert_search_attributes(updates)
        if file.deadline_expired:
            await workflow.sleep(timedelta(seconds=1))
            workflow.upsert_search_attributes([search.NEXT_DEADLINE.value_unset()])
        await workflow.wait_condition(lambda: False)
