"""The daily digest's pure builder: who gets which files, in French, sorted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.digest import AWAITING_CASEWORKER, LISTED_AT_MOST, DigestFile, build_digests

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
