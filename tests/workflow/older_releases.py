"""Workflow classes registered under Guichet's workflow name that play earlier releases, for
the tests of what an upgrade leaves running."""

from __future__ import annotations

from temporalio import workflow

from domain.state import Application
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import WorkflowStart


@workflow.defn(name="GrantApplicationWorkflow", sandboxed=False)
class RunBegunBeforeFunders(GrantApplicationWorkflow):
    """A file's run as begun before files published their funders: the same workflow, which
    publishes every other key and ``GuichetFunders`` only once asked (``publish_funders``)."""

    @workflow.run
    async def run(self, start: WorkflowStart) -> Application:
        return await super().run(start)

    def _publish_search_attributes(self) -> None:
        self._publish_funders = False
        super()._publish_search_attributes()


@workflow.defn(name="GrantApplicationWorkflow", sandboxed=False)
class ReleaseWithoutPublishFunders:
    """A worker of a release that knows no ``publish_funders`` update: it holds the file."""

    @workflow.run
    async def run(self, start: WorkflowStart) -> None:
        await workflow.wait_condition(lambda: False)
