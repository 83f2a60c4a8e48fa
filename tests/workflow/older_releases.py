"""Workflow classes registered under Guichet's workflow name that play earlier releases, for
the tests of what an upgrade leaves running."""

from __future__ import annotations

import dataclasses

from temporalio import workflow

from domain.state import Application
from workflows.grant_application import GrantApplicationWorkflow
from workflows.messages import WorkflowStart
from workflows.patches import KnownChanges


@workflow.defn(name="GrantApplicationWorkflow", sandboxed=False)
class RunBegunBeforeFunders(GrantApplicationWorkflow):
    """A file's run as begun before files published their funders: the same workflow, whose
    patch check said no from the start (it publishes ``GuichetFunders`` only once asked,
    ``publish_funders``)."""

    @workflow.run
    async def run(self, start: WorkflowStart) -> Application:
        return await super().run(start)

    @property
    def _known(self) -> KnownChanges:
        return self._began_with

    @_known.setter
    def _known(self, known: KnownChanges) -> None:
        """What the patch check decides is kept but the funders: this run began before."""
        self._began_with = dataclasses.replace(known, publish_funders=False)


@workflow.defn(name="GrantApplicationWorkflow", sandboxed=False)
class ReleaseWithoutPublishFunders:
    """A worker of a release that knows no ``publish_funders`` update: it holds the file."""

    @workflow.run
    async def run(self, start: WorkflowStart) -> None:
        await workflow.wait_condition(lambda: False)
