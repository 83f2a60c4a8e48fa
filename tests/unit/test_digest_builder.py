"""The daily digest's pure builder: who gets which files, in French, sorted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.commands import DeclareCompletion, ExpireDeadline
from domain.digest import (
    AWAITING_CASEWORKER,
    CASEWORKERS_POOL,
    LISTED_AT_MOST,
    DigestFile,
    build_digests,
    settlement_awaited,
)
from domain.french import COMMAND
from tests.unit.builders import APPLICANT, SYSTEM, at, claim, history, paid
from tests.unit.test_settlement import ADVANCE_PAID, EXPIRED, settle, started

NOW = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)  # 7:00 in Paris


def file(
    application_id: str,
    caseworker: str,
    *,
    idle_days: float | None = None,
    due_in_days: float | None = None,
    due_at: datetime | None = None,
    status: str = "in_instruction",
) -> DigestFile:
    return DigestFile(
        application_id=application_id,
        caseworker=caseworker,
        status=status,
        programme="dsil",
        last_activity=NOW - timedelta(days=idle_days) if idle_days is not None else None,
        next_deadline=due_at or (NOW + timedelta(days=due_in_days) if due_in_days else None),
    )


def test_each_caseworker_gets_one_digest_with_only_their_files() -> None:
    """Files are grouped by caseworker; a caseworker with nothing due gets nothing."""
    notices = build_digests(
        [
            file("f-alice-stale", "alice", idle_days=10),
            file("f-bob-due", "bob", idle_days=1, due_in_days=3),
            file("f-carol-fresh", "carol", idle_days=2, due_in_days=30),
        ],
        now=NOW,
        stale_days=7,
    )

    assert [(n.recipient_role, n.recipient) for n in notices] == [
        ("caseworker", "alice"),
        ("caseworker", "bob"),
    ]
    assert "f-alice-stale" in notices[0].body
    assert "f-bob-due" not in notices[0].body
    assert "f-bob-due" in notices[1].body
    assert all(n.event_type == "DailyDigest" for n in notices)


def test_staleness_is_strictly_more_than_the_setting() -> None:
    """Untreated for more than N days: 8 days is stale with N=7, 6 days is not."""
    files = [file("f-8", "alice", idle_days=8), file("f-6", "alice", idle_days=6)]

    (seven,) = build_digests(files, now=NOW, stale_days=7)
    (five,) = build_digests(files, now=NOW, stale_days=5)

    assert "f-8" in seven.body and "f-6" not in seven.body
    assert "f-8" in five.body and "f-6" in five.body


def test_the_digest_is_french_with_counts_dates_and_sections() -> None:
    """Subject counts files and deadlines; body lists them with Paris dates, oldest first."""
    (notice,) = build_digests(
        [
            file("f-a", "alice", idle_days=9),
            file("f-b", "alice", idle_days=20),
            file("f-c", "alice", idle_days=1, due_at=datetime(2026, 12, 3, 13, 30, tzinfo=UTC)),
        ],
        now=NOW,
        stale_days=7,
    )

    assert notice.subject == "Guichet : point du 30/11/2026 — 2 dossiers à traiter, 1 échéance"
    body = notice.body
    assert body.startswith("Bonjour,\n")
    assert "Dossiers à traiter, sans action depuis plus de 7 jours :" in body
    assert (
        "- f-b (« dsil », en instruction) : dernière action le 10/11/2026 (il y a 20 jours)" in body
    )
    assert body.index("f-b") < body.index("f-a")  # the oldest first
    assert "Échéances des 7 prochains jours :" in body
    assert "- f-c (« dsil », en instruction) : échéance le 03/12/2026 à 14h30" in body


def test_a_deadline_at_paris_midnight_reads_as_the_last_day_included() -> None:
    """A legal deadline ends at midnight: shown as « jusqu'au <last day> inclus »."""
    midnight_paris = datetime(2026, 12, 4, 23, 0, tzinfo=UTC)  # 5 Dec 00:00 in Paris
    (notice,) = build_digests([file("f-1", "alice", due_at=midnight_paris)], now=NOW, stale_days=7)

    assert "échéance jusqu'au 04/12/2026 inclus" in notice.body
    assert notice.subject.endswith("1 échéance")


def test_an_expired_deadline_is_shown_as_passed() -> None:
    """A deadline already behind us is flagged, not hidden."""
    (notice,) = build_digests(
        [file("f-late", "alice", due_at=NOW - timedelta(hours=5))], now=NOW, stale_days=7
    )

    assert (
        "f-late (« dsil », en instruction) : échéance dépassée (le 30/11/2026 à 02h00)"
        in notice.body
    )


def test_deadlines_beyond_the_horizon_and_recent_files_give_no_digest() -> None:
    """Nothing stale and nothing due within the horizon: no notice at all."""
    files = [file("f-1", "alice", idle_days=1, due_in_days=8)]

    assert build_digests(files, now=NOW, stale_days=7) == []
    assert len(build_digests(files, now=NOW, stale_days=7, horizon_days=10)) == 1


def test_a_file_acted_on_less_than_the_setting_ago_is_never_listed() -> None:
    """Files publish their last action truncated to the hour: at 7:30, a file acted on at
    7:45 a week ago (published as 7:00) is untreated for 6 days 23 h 45 min, not more than 7
    days. Judged against the hour, it waits for tomorrow's digest; one acted on at 6:50 (6:00)
    is listed, with the days it really waited."""
    now = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
    week_ago = now - timedelta(days=7)
    acted = {
        "f-recent": week_ago + timedelta(minutes=15),
        "f-old": week_ago - timedelta(minutes=40),
    }
    files = [
        DigestFile(
            application_id=name,
            caseworker="alice",
            status="submitted",
            last_activity=moment.replace(minute=0, second=0, microsecond=0),
        )
        for name, moment in acted.items()
    ]
    (notice,) = build_digests(files, now=now, stale_days=7)
    assert "f-old" in notice.body and "f-recent" not in notice.body
    assert "(il y a 7 jours)" in notice.body


def test_only_files_awaiting_their_caseworker_are_left_untreated() -> None:
    """A file in its works (two years long), waiting on the commune's correction, on a payment
    officer or refused (running only to be reopened) was « sans action » every morning: the
    digest listed nearly every file its caseworker had ever held. Their deadlines still show."""
    waiting_on_others = ["correction_requested", "awarded", "started", "completed"]
    waiting_on_others += ["repayment_due", "refused", "dismissed"]
    files = [file(f"f-{s}", "alice", idle_days=30, status=s) for s in waiting_on_others]
    files += [file(f"f-{s}", "alice", idle_days=30, status=s) for s in sorted(AWAITING_CASEWORKER)]
    files.append(file("f-works-due", "alice", idle_days=30, due_in_days=3, status="started"))

    (digest,) = build_digests(files, now=NOW, stale_days=7)

    assert {"submitted", "in_instruction", "accepted"} == AWAITING_CASEWORKER
    stale, due = digest.body.split("Échéances des 7 prochains jours :")
    assert "Dossiers à traiter, sans action depuis plus de 7 jours :" in stale
    for status in AWAITING_CASEWORKER:
        assert f"f-{status} (" in stale, status
    for status in waiting_on_others:
        assert f"f-{status} (" not in digest.body, status
    assert "f-works-due" in due and "f-works-due" not in stale
    assert digest.subject.endswith("3 dossiers à traiter, 1 échéance")


def test_a_long_section_lists_the_most_pressing_and_says_how_many_more() -> None:
    """A caseworker back from a month away with 250 files waiting got a mail of 250 lines:
    the oldest first, then one line that counts the rest and says where they are listed."""
    files = [file(f"f-{n:03}", "alice", idle_days=8 + n) for n in range(LISTED_AT_MOST + 150)]
    files += [file("f-due", "alice", idle_days=1, due_in_days=2)]

    (digest,) = build_digests(files, now=NOW, stale_days=7)

    listed = [line for line in digest.body.splitlines() if line.startswith("- f-")]
    assert len(listed) == LISTED_AT_MOST + 1  # the due file's own section is short
    oldest = f"f-{LISTED_AT_MOST + 149:03}"
    assert listed[0].startswith(f"- {oldest} ")  # idle longest, first
    assert "- f-000 " not in digest.body  # the most recently treated is past the cut
    assert (
        "- … et 150 autres dossiers à traiter : la file de travail, vue « En attente de "
        "l'instructeur », les liste tous." in digest.body
    )
    assert digest.subject.endswith(f"{LISTED_AT_MOST + 150} dossiers à traiter, 1 échéance")


def test_one_day_is_said_in_the_singular() -> None:
    """GUICHET_DIGEST_STALE_DAYS=1 and a one-day horizon read « plus d'un jour », « il y a
    1 jour » and « les prochaines 24 heures », not « plus de 1 jours »."""
    (notice,) = build_digests(
        [file("f-1", "alice", idle_days=1.5, due_in_days=0.5)],
        now=NOW,
        stale_days=1,
        horizon_days=1,
    )

    assert "Dossiers à traiter, sans action depuis plus d'un jour :" in notice.body
    assert "(il y a 1 jour)" in notice.body
    assert "Échéances des prochaines 24 heures :" in notice.body
    assert "1 jours" not in notice.body


def test_files_whose_completion_deadline_expired_are_listed_to_settle_the_oldest_first() -> None:
    """A file whose completion deadline expired waits for its caseworker to settle it, in its
    works' status and with no deadline left: neither untreated nor due, it was never listed.
    Its own section lists it, named as the others are, the oldest expiry first, then says what
    to do; a file in its works the log does not tell to settle stays out."""
    files = [
        file("f-recent", "alice", status="completed"),
        file("f-old", "alice", status="started"),
        file("f-works", "alice", status="started"),
        file("f-untreated", "alice", idle_days=9),
        file("f-due", "alice", idle_days=1, due_in_days=2),
        file("f-bob", "bob", status="started"),
    ]
    to_settle = {
        "f-recent": NOW - timedelta(days=3, hours=7),  # Paris midnight, 27 Nov
        "f-old": datetime(2026, 9, 1, 22, 0, tzinfo=UTC),  # Paris midnight, 2 Sep
        "f-bob": NOW - timedelta(hours=7),
        "f-unlisted": NOW - timedelta(days=30),  # not among the files listed: told to nobody
    }

    alice, bob = build_digests(files, now=NOW, stale_days=7, to_settle=to_settle)

    assert alice.subject == (
        "Guichet : point du 30/11/2026 — 1 dossier à traiter, 2 dossiers à solder, 1 échéance"
    )
    untreated, rest = alice.body.split("Dossiers à solder, délai d'achèvement des travaux expiré :")
    assert "f-untreated" in untreated
    to_settle_section, due = rest.split("Échéances des 7 prochains jours :")
    assert to_settle_section.splitlines()[1:4] == [
        "- f-old (« dsil », travaux commencés) : délai expiré à la fin du 01/09/2026 "
        "(il y a 89 jours)",
        "- f-recent (« dsil », travaux achevés) : délai expiré à la fin du 26/11/2026 "
        "(il y a 3 jours)",
        "Aucune demande de paiement n'y est plus recevable (CGCT R2334-29) : soldez chacun "
        "depuis sa page (« Solder le dossier après le délai d'achèvement ») sur la dépense "
        "éligible justifiée.",
    ]
    assert COMMAND["SettleAfterCompletionDeadline"] in to_settle_section
    assert "f-due" in due and "f-works" not in alice.body and "f-unlisted" not in alice.body
    assert bob.subject.endswith("— 1 dossier à solder")
    assert "- f-bob (« dsil », travaux commencés) : délai expiré à la fin du 29/11/2026\n" in (
        bob.body
    )


def test_a_long_list_of_files_to_settle_is_cut_like_the_others() -> None:
    """At most ``LISTED_AT_MOST`` lines, the oldest expiries; one line counts the rest, and
    what to do is said after it."""
    files = [file(f"f-{n:03}", "alice", status="started") for n in range(LISTED_AT_MOST + 2)]
    to_settle = {f.application_id: NOW - timedelta(days=400 - n) for n, f in enumerate(files)}

    (digest,) = build_digests(files, now=NOW, stale_days=7, to_settle=to_settle)

    listed = [line for line in digest.body.splitlines() if line.startswith("- f-")]
    assert len(listed) == LISTED_AT_MOST and listed[0].startswith("- f-000 ")
    assert (
        "- … et 2 autres dossiers à solder : les points suivants les listeront à mesure que "
        "ceux-ci seront soldés.\nAucune demande de paiement" in digest.body
    )
    assert digest.subject.endswith(f"{LISTED_AT_MOST + 2} dossiers à solder")


def test_a_file_awaits_its_settlement_from_the_expiry_with_no_payment_on_its_way() -> None:
    """Read from its events: the moment its completion deadline expired, while the file may
    be settled now (``settlement_refused``); nothing before the expiry, while a payment
    claimed in time is on its way, nor once it is settled."""
    expiry = ExpireDeadline(actor=SYSTEM, at=EXPIRED, kind="completion")
    claimed = claim("advance", 30_000, days=40)

    assert settlement_awaited(history(started())) is None
    assert settlement_awaited(history([*started(), expiry])) == EXPIRED
    assert settlement_awaited(history([*started(*ADVANCE_PAID), expiry])) == EXPIRED
    assert settlement_awaited(history([*started(claimed), expiry])) is None
    assert settlement_awaited(history([*started(claimed), expiry, *paid(1, days=1500)])) == EXPIRED
    completed = DeclareCompletion(actor=APPLICANT, at=at(200), completed_on=at(200).date())
    assert settlement_awaited(history([*started(), completed, expiry])) == EXPIRED
    assert settlement_awaited(history([*started(), expiry, settle(0)])) is None


def test_the_files_no_one_took_are_in_the_pool_s_digest() -> None:
    """A file no caseworker has taken waits on the pool: its digest says so and where to take
    them, instead of the file being in no digest at all, however long it waits."""
    files = [
        file("f-nobody", CASEWORKERS_POOL, idle_days=12, status="submitted"),
        file("f-alice", "alice", idle_days=9),
    ]
    alice, pool = build_digests(files, now=NOW, stale_days=7)
    assert (alice.recipient, pool.recipient) == ("alice", CASEWORKERS_POOL)
    assert "qui vous sont attribués" in alice.body and "f-nobody" not in alice.body
    assert pool.subject.endswith("— 1 dossier à traiter")
    assert (
        "sur les dossiers qu'aucun instructeur n'a encore pris : la file de travail les liste "
        "(instructeur « aucun »), où chacun peut les prendre." in pool.body
    )
    assert "- f-nobody (« dsil », " in pool.body
