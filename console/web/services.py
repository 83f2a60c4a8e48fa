"""What the console's routes need, built once at start-up and held by the app."""

from __future__ import annotations

from dataclasses import dataclass, field

from console.web.accounts import AccountStore
from console.web.batch import BatchRunner
from console.web.reports import Reports
from console.web.sessions import SessionSigner
from console.web.throttle import SignInThrottle
from domain.programme import Catalogue
from domain.registry import CommuneRegistry
from eventlog import EventLog
from workflows.client import GuichetClient


@dataclass
class WebServices:
    """The Temporal facade, the event log, accounts, reference data and security helpers."""

    guichet: GuichetClient
    log: EventLog
    accounts: AccountStore
    catalogue: Catalogue
    registry: CommuneRegistry
    signer: SessionSigner
    throttle: SignInThrottle = field(default_factory=SignInThrottle)
    batches: BatchRunner = field(default_factory=BatchRunner)
    reports: Reports = field(default_factory=Reports)
