"""Every reminder sent once: the six-year run's deadlines counted in the log and the outbox.

What a file should see in six years follows from the programme's deadline rules
(``dsil-detr-investissement`` in domain/data/catalogue.toml) and domain/decider_deadlines.py:

* A file left **"submitted"** (eligibility is confirmed at submission, which starts the clocks):
  ``admissibility`` (2 months, applies while the file is under review) and ``completeness``
  (3 months, applies while "submitted") each run their course: every reminder, then the
  expiry. Admissibility's expiry (decision due) changes nothing; completeness's deems the file
  complete (in_instruction), which opens ``cofinancer_decision`` (2 months) for each pending
  co-financer line (detr, region, department): every reminder, then the expiry (escalate,
  nothing else). Nothing else opens: no correction is asked, no award made.
* A file driven to **"awarded"** gets there in seconds of real time, before any time is
  skipped: the review deadlines close before their first reminder (a month away at the
  earliest), each co-financer deadline when its line is decided. ``start_of_works`` (24 months
  from the award, applies while "awarded") then reminds and expires, lapsing the file. Works
  never start, so ``completion`` never opens.

Every deadline above ends within six years and is at least two months long, so each reminder
offset of its rule (J-30, J-7, J-1) falls after its opening and is due exactly once. The
offsets and the recipients come from the rules; the list of deadlines is this scenario's.
Each reminder event is also one notice per recipient in the notification outbox.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from activities.outbox import outbox
from bench.scenario import PROGRAMME, plan
from domain.catalogue import load_catalogue
from domain.notices import DEADLINE_NAMES
from domain.programme import DeadlineRule
from eventlog import EventLog

Deadline = tuple[str, str | None]
"""(kind, subject): the subject names the funding line of a co-financer's decision."""
Key = tuple[object, ...]
Counts = collections.Counter[Key]

SUBMITTED: tuple[Deadline, ...] = (
    ("admissibility", None),
    ("completeness", None),
    *(("cofinancer_decision", line.line_id) for line in plan().lines if line.kind != "owner"),
)
AWARDED: tuple[Deadline, ...] = (("start_of_works", None),)

_FUNDERS = {line.line_id: line.funder for line in plan().lines}
_KIND_BY_NAME = {name: kind for kind, name in DEADLINE_NAMES.items()}
_REMINDER_SUBJECT = re.compile(
    r"« (?P<name>.+) » : (?:plus que (?P<days>\d+) jours|(?P<last>dernier jour))"
)
"""A reminder's subject (``domain.notices``): the days left when it left, which is its offset
when it leaves on time, as a time-skipped run makes it; the last day's is J-1."""


@dataclass(frozen=True)
class Expected:
    """What one file must show: reminder events, their notices and expiries, with counts."""

    reminders: Counts
    """(kind, subject, days before)"""
    notices: Counts
    """(kind, days before, recipient role, funder of a co-financer recipient)"""
    expiries: Counts
    """(kind, subject)"""


def expected(deadlines: Iterable[Deadline], rules: Mapping[str, DeadlineRule]) -> Expected:
    """Each deadline reminds once per offset of its rule, to each recipient role, and expires."""
    reminders: Counts = collections.Counter()
    notices: Counts = collections.Counter()
    for kind, subject in deadlines:
        rule = rules[kind]
        for days in rule.reminder_days:
            reminders[(kind, subject, days)] += 1
            for role in rule.recipients:
                funder = _FUNDERS[subject] if role == "cofinancer" and subject else None
                notices[(kind, days, role, funder)] += 1
    return Expected(reminders, notices, collections.Counter[Key](deadlines))


def programme_rules() -> dict[str, DeadlineRule]:
    programme = load_catalogue().get(PROGRAMME)
    assert programme is not None, PROGRAMME
    return {rule.kind: rule for rule in programme.deadlines}


@dataclass(frozen=True)
class Tally:
    """One comparison over every file: files that match exactly, and what is off."""

    files_exact: int
    expected: int
    missing: int
    duplicated: int
    """Recorded more often than expected, or not expected at all."""

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicated == 0


def tally(pairs: Iterable[tuple[Counts, Counts]]) -> Tally:
    """Sum over files of (expected, found) counters."""
    exact = total = missing = duplicated = 0
    for want, got in pairs:
        exact += want == got
        total += sum(want.values())
        missing += sum((want - got).values())
        duplicated += sum((got - want).values())
    return Tally(exact, total, missing, duplicated)


@dataclass(frozen=True)
class ReminderCheck:
    files: int
    awarded: int
    reminders: Tally
    notices: Tally
    expiries: Tally

    @property
    def ok(self) -> bool:
        return self.reminders.ok and self.notices.ok and self.expiries.ok

    def lines(self) -> list[str]:
        def line(what: str, t: Tally) -> str:
            return (
                f"  {what}: {t.files_exact}/{self.files} files exactly as expected; "
                f"{t.expected} expected, {t.missing} missing, {t.duplicated} duplicated"
            )

        return [
            f"reminder check ({self.files} files: {self.awarded} awarded expect start_of_works "
            f"J-30/J-7/J-1 and its expiry; {self.files - self.awarded} submitted expect "
            "admissibility, completeness and 3 co-financer decisions, J-30/J-7/J-1 and expiry "
            f"each): {'OK' if self.ok else 'FAILED'}",
            line("reminder events in the log", self.reminders),
            line("outbox notices of those reminders", self.notices),
            line("expiry events in the log", self.expiries),
        ]


async def check_reminders(log: EventLog, awarded: list[str], submitted: list[str]) -> ReminderCheck:
    """Count every file's reminder and expiry events and reminder notices against the rules."""
    rules = programme_rules()
    want = {a: expected(AWARDED, rules) for a in awarded}
    want |= {s: expected(SUBMITTED, rules) for s in submitted}
    reminders, expiries = await _log_counts(log, set(want))
    notices = await _outbox_counts(log)
    empty: Counts = collections.Counter()
    return ReminderCheck(
        files=len(want),
        awarded=len(awarded),
        reminders=tally((w.reminders, reminders.get(a, empty)) for a, w in want.items()),
        notices=tally((w.notices, notices.get(a, empty)) for a, w in want.items()),
        expiries=tally((w.expiries, expiries.get(a, empty)) for a, w in want.items()),
    )


PerFile = dict[str, Counts]


async def _log_counts(log: EventLog, ids: set[str]) -> tuple[PerFile, PerFile]:
    reminders: PerFile = collections.defaultdict(collections.Counter)
    expiries: PerFile = collections.defaultdict(collections.Counter)
    async for event in log.read_all():
        if event.stream_id not in ids:
            continue
        data = event.data
        if event.type == "ReminderSent":
            reminders[event.stream_id][(data["kind"], data["subject"], data["days_before"])] += 1
        elif event.type == "DeadlineExpired":
            expiries[event.stream_id][(data["kind"], data["subject"])] += 1
    return reminders, expiries


async def _outbox_counts(log: EventLog) -> PerFile:
    """Reminder notices per file, keyed as ``expected`` keys them (from the notice's subject)."""
    query = sa.select(
        outbox.c.application_id, outbox.c.recipient_role, outbox.c.recipient, outbox.c.subject
    ).where(outbox.c.event_type == "ReminderSent")
    async with log.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    counts: PerFile = collections.defaultdict(collections.Counter)
    for app_id, role, recipient, subject in rows:
        counts[app_id][notice_key(role, recipient, subject)] += 1
    return counts


def notice_key(role: str, recipient: str, subject: str) -> Key:
    """A reminder notice keyed as ``expected`` keys it; kind "?" when the subject is unknown."""
    found = _REMINDER_SUBJECT.search(subject)
    kind = _KIND_BY_NAME.get(found["name"], "?") if found else "?"
    days = (1 if found["last"] else int(found["days"])) if found else -1
    funder = recipient.removeprefix("cofinancer:") if role == "cofinancer" else None
    return (kind, days, role, funder)
