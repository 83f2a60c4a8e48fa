"""``guichet audit`` after the auditor's review: views and exports that check what they print
against the chain, a verify that says what it proved, evidence files never overwritten by
accident, positions and times an operator can copy back."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_support import Database, file_events, record, sqlite_log_for_guichet
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from console.auditing import parse_as_of
from eventlog.checkpoints import checkpoint_now, save, sign
from eventlog.signing import public_key_text
from tests.cli.support import guichet

EVENTS = "eventlog_events"
ALTER_PAYMENT = (
    f"UPDATE {EVENTS} SET data = replace(data, '3000000', '9000000') WHERE position IN (9, 10)"
)
"""The advance claimed (9) and ordered (10) raised from €30,000 to €90,000, hashes untouched."""
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A SQLite log with two files (app-1 at positions 1-11, app-2 at 12-22), that
    ``guichet`` finds through GUICHET_DATABASE_URL; no key configured."""
    return sqlite_log_for_guichet(tmp_path, monkeypatch, {"app-1": None, "app-2": "01"})


def _store_checkpoint(database: Database, key: Ed25519PrivateKey) -> None:
    async def sign_head() -> None:
        log = database.open()
        await checkpoint_now(log, key, NOW)
        await log.close()

    asyncio.run(sign_head())


# -- 1. views and exports check what they print ----------------------------------------------


def test_show_of_an_altered_file_prints_it_then_warns_naming_the_positions(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """The altered amounts are still shown, then a warning names positions 9 and 10 and says
    what to do; exit 1. The other file, intact, shows with 0 and no warning."""
    asyncio.run(db.tamper(ALTER_PAYMENT))
    code, out, _ = guichet(capsys, "audit", "show", "app-1")
    assert code == 1
    assert "payment 1 (advance) of €90,000.00 claimed" in out  # still printed, for comparison
    warning = out[out.index("WARNING") :]
    assert "position(s) 9, 10 do not match it" in warning
    assert "position 9: hash does not match its content (row altered?)" in warning
    assert "position 10: hash does not match its content (row altered?)" in warning
    assert out.rstrip().endswith("compare with an earlier export or a backup.")
    code, out, _ = guichet(capsys, "audit", "show", "app-2")
    assert code == 0 and "WARNING" not in out


def test_show_as_json_of_an_altered_file_carries_the_findings_and_exits_1(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON stays JSON (the findings in it), the warning goes to stderr, exit 1; cut at a
    position before the altered rows, the file's record is still flagged."""
    asyncio.run(db.tamper(ALTER_PAYMENT))
    for cut in ([], ["--position", "3"]):
        code, out, err = guichet(capsys, "audit", "show", "app-1", "--json", *cut)
        view = json.loads(out)
        assert code == 1, cut
        assert view["chain"]["ok"] is False
        assert [f["position"] for f in view["chain"]["findings"]] == [9, 10]
        assert "WARNING" in err and "9, 10" in err


def test_export_of_altered_files_writes_them_then_warns_and_exits_1(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One file or a selection: the trail is written whole (for comparison), then stderr
    names the positions that do not match; exit 1. A selection without them: 0."""
    asyncio.run(db.tamper(ALTER_PAYMENT))
    target = tmp_path / "trail.jsonl"
    code, _, err = guichet(capsys, "audit", "export", "app-1", "-o", str(target))
    assert code == 1
    assert len(target.read_text(encoding="utf-8").splitlines()) == 11
    assert "11 event(s) written" in err and "position(s) 9, 10 do not match it" in err
    code, out, err = guichet(capsys, "audit", "export", "--department", "24", "--format", "csv")
    assert code == 1 and "90000,00" in out and "position(s) 9, 10" in err
    code, _, err = guichet(capsys, "audit", "export", "--department", "01")
    assert code == 0 and "WARNING" not in err


def test_states_of_an_altered_log_are_written_then_flagged(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """The portfolio recomputes the chain after the states: exit 1 and the first bad
    position on stderr; with --no-verify, 0 and a sentence saying they were not checked."""
    asyncio.run(db.tamper(ALTER_PAYMENT))
    code, out, err = guichet(capsys, "audit", "states")
    assert code == 1 and len(out.splitlines()) == 3
    assert "the log does not vouch for these states: position 9: hash does not match" in err
    assert "run `guichet audit verify`" in err
    code, _, err = guichet(capsys, "audit", "states", "--no-verify")
    assert code == 0 and "were not checked against the log's hash chain" in err


# -- 2. verify says what it proved -----------------------------------------------------------


def test_verify_without_checkpoints_does_not_call_the_log_intact(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A consistent chain with nothing to vouch for it: exit 0, and the last line says that
    anyone with write access could have rewritten positions 1..22, and how to do better."""
    code, out, _ = guichet(capsys, "audit", "verify")
    last = out.splitlines()[-1]
    assert code == 0 and "intact" not in out
    assert last.startswith("the chain is consistent, but no checkpoint signed by a trusted key")
    assert "positions 1..22" in last and "--public-key" in last and "--checkpoints FILE" in last


def test_verify_with_checkpoints_it_cannot_check_says_so(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stored checkpoints but no public key: their hashes match, signatures unchecked; not
    intact."""
    _store_checkpoint(db, Ed25519PrivateKey.generate())
    code, out, _ = guichet(capsys, "audit", "verify")
    assert code == 0 and "intact" not in out
    assert "no checkpoint signed by a trusted key vouches for it" in out.splitlines()[-1]


def test_verify_names_the_positions_no_trusted_checkpoint_covers(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Signed at 22 then three events appended: 1..22 vouched, 23..25 covered by none; once
    the head is signed with the trusted key, the log is intact."""
    key = Ed25519PrivateKey.generate()
    _store_checkpoint(db, key)

    async def more() -> None:
        log = db.open()
        await record(log, "app-3", file_events("app-3")[:3])
        await log.close()

    asyncio.run(more())
    public = public_key_text(key.public_key())
    code, out, _ = guichet(capsys, "audit", "verify", "--public-key", public)
    last = out.splitlines()[-1]
    assert code == 0 and "intact" not in last
    assert "vouch for positions 1..22" in last and "no checkpoint covers positions 23..25" in last
    _store_checkpoint(db, key)
    code, out, _ = guichet(capsys, "audit", "verify", "--public-key", public)
    assert code == 0 and out.splitlines()[-1].startswith("the log is intact")
    assert "every position up to the head (25)" in out


# -- 3. verify's headline and next step ------------------------------------------------------


def test_a_refused_checkpoint_is_no_bad_position_and_says_what_to_do(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint signed by another key: no "FIRST BAD POSITION: None", a headline that
    names the refusal, and a last line saying what to do."""
    _store_checkpoint(db, Ed25519PrivateKey.generate())
    trusted = public_key_text(Ed25519PrivateKey.generate().public_key())
    code, out, _ = guichet(capsys, "audit", "verify", "--public-key", trusted)
    assert code == 1 and "None" not in out
    assert "CHECKPOINT REFUSED — the checkpoint of position 22" in out
    assert out.splitlines()[-1].startswith("what to do: a refused checkpoint proves nothing")


def test_a_failed_verify_ends_with_what_to_do_and_the_first_real_problem(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """An altered row at 9 and a trusted checkpoint at 22 contradicted (its range 1..22): the
    headline is position 9, the range comes after, the last line says to compare and not to
    trust states from position 1 on."""
    key = Ed25519PrivateKey.generate()

    async def contradicted() -> None:
        log = db.open()
        await save(log, sign(key, 22, "ab" * 32, NOW), NOW)
        await log.close()

    asyncio.run(contradicted())
    asyncio.run(db.tamper(ALTER_PAYMENT))
    public = public_key_text(key.public_key())
    code, out, _ = guichet(capsys, "audit", "verify", "--public-key", public)
    lines = out.splitlines()
    assert code == 1
    assert lines[1] == (
        "FIRST BAD POSITION: 9 — position 9: hash does not match its content (row altered?); "
        "the row there reads file app-1, PaymentClaimed (version 9), as stored: those columns "
        "may be altered too"
    )
    assert "rewritten somewhere in positions 1..22" in lines[2]
    assert lines[-1].startswith("what to do: compare the log with the checkpoints exported last")
    assert lines[-1].endswith("trust no state from position 1 on")


def test_a_rewritten_log_is_said_altered_in_a_range_not_at_its_first_position(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A consistent rewrite that only the stored checkpoint shows: the headline said
    « FIRST BAD POSITION: 1 — position 22: hash differs … » as if position 1 were the bad one;
    it now says the range, and `audit states` fails on it too (it checked the chain alone)."""
    key = Ed25519PrivateKey.generate()
    _store_checkpoint(db, key)

    async def rewrite() -> None:
        log = db.open()
        await db.rewrite_from(log, 9)
        await log.close()

    asyncio.run(rewrite())
    public = public_key_text(key.public_key())
    code, out, _ = guichet(capsys, "audit", "verify", "--public-key", public)
    assert code == 1
    assert out.splitlines()[1].startswith("ALTERED SOMEWHERE IN POSITIONS 1..22 — position 22")
    code, _, err = guichet(capsys, "audit", "states", "--format", "jsonl")
    assert code == 1 and "rewritten somewhere in positions 1..22" in err


def test_a_dropped_trigger_fails_the_verification(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing changed yet, but the database no longer refuses changes: exit 1 with what to
    do, where it used to exit 0 with a note."""
    asyncio.run(db.execute("DROP TRIGGER eventlog_events_no_update"))
    code, out, _ = guichet(capsys, "audit", "verify")
    lines = out.splitlines()
    assert code == 1
    assert lines[1].startswith("LOG NO LONGER PROTECTED — the append-only trigger(s) eventlog_")
    assert lines[-1].startswith("what to do: find who removed the triggers")


# -- 4. evidence files are not overwritten by accident ---------------------------------------


def test_export_checkpoints_refuses_an_existing_file_unless_forced(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The auditor's kept file is left as it was (exit 2, naming --force); --force replaces
    it."""
    kept = tmp_path / "kept.json"
    kept.write_text("the auditor's evidence\n", encoding="utf-8")
    code, _, err = guichet(capsys, "audit", "export-checkpoints", str(kept))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"guichet: {kept} already exists") and "--force" in err
    assert kept.read_text(encoding="utf-8") == "the auditor's evidence\n"
    code, _, _ = guichet(capsys, "audit", "export-checkpoints", str(kept), "--force")
    assert code == 0 and json.loads(kept.read_text())["format"] == "guichet-checkpoints-v1"


def test_keygen_over_an_existing_file_names_force(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The refusal says how to replace the key on purpose."""
    key_file = tmp_path / "signing.pem"
    assert guichet(capsys, "audit", "keygen", str(key_file))[0] == 0
    code, _, err = guichet(capsys, "audit", "keygen", str(key_file))
    assert code == 2 and err.count("\n") == 1 and "--force" in err


# -- 5. positions ----------------------------------------------------------------------------


def test_a_position_no_log_can_hold_is_a_usage_error(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Beyond a 64-bit integer: exit 2 and one sentence, not an unexpected OverflowError."""
    code, out, err = guichet(capsys, "audit", "show", "app-1", "--position", "9" * 20)
    assert code == 2 and out == ""
    assert err.startswith("guichet: --position 99999999999999999999 is beyond any log")
    assert err.count("\n") == 1


def test_a_position_beyond_the_head_says_where_the_log_ends(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a silent "at position 1000": a note says the log ends at 22, in text and JSON."""
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--position", "1000")
    assert code == 0 and "note: the log ends at position 22" in out
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--position", "1000", "--json")
    view = json.loads(out)
    assert view["head_position"] == 22 and "the log ends at position 22" in view["notes"][0]
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--position", "22")
    assert code == 0 and "note: the log ends" not in out


def test_audit_show_names_actors_no_account_stands_for_and_acts_after_a_disabling(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """« payment_officer:ghost » ordered a payment from the CLI, and no audit view said that
    no account is named so; an act recorded after its actor's account was disabled either."""
    from datetime import UTC, datetime

    from argon2 import PasswordHasher

    from console.web.accounts import AccountStore, accounts

    code, out, _ = guichet(capsys, "audit", "show", "app-1")
    assert "note: no console account exists: every actor of this file was recorded" in out

    async def with_accounts() -> None:
        log = db.open()
        store = AccountStore(log.engine, PasswordHasher(time_cost=1, memory_cost=1024))
        await store.add("instructeur-1", "x" * 12, "caseworker")
        await store.add("comptable-1", "x" * 12, "payment_officer")
        async with log.engine.begin() as conn:  # disabled before the file's payments
            await conn.execute(
                accounts.update()
                .where(accounts.c.username == "comptable-1")
                .values(disabled_at=datetime(2025, 1, 1, tzinfo=UTC))
            )
        await log.close()

    asyncio.run(with_accounts())
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--json")
    notes = json.loads(out)["notes"]
    assert code == 0 and notes[0].startswith("actor(s) ")
    unknown = notes[0].split(" have no")[0]
    assert "instructeur-1" not in unknown and "comptable-1" not in unknown
    assert "have no console account: recorded as named on the command line" in notes[0]
    assert any(
        "comptable-1 acted after its account was disabled (2025-01-01T00:00:00Z)" in note
        for note in notes
    ), notes


# -- 6. no file yet is no state --------------------------------------------------------------


def test_show_as_json_before_the_first_event_has_no_state(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the file's first event (by date or position), the JSON says ``"state": null``,
    as the text says "no event yet", not a draft of version 0."""
    for cut in (["--as-of", "2020-01-01"], ["--position", "11"]):
        code, out, _ = guichet(capsys, "audit", "show", "app-2", "--json", *cut)
        view = json.loads(out)
        assert code == 0 and view["state"] is None and view["timeline"] == [], cut
    code, out, _ = guichet(capsys, "audit", "show", "app-2", "--json", "--position", "12")
    assert json.loads(out)["state"]["version"] == 1


# -- 7. times carry their zone ---------------------------------------------------------------


def test_a_time_copied_from_the_timeline_into_as_of_is_the_same_instant(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each row's time says it is UTC (Z); pasted into --as-of it keeps that row and drops
    the next; the help says how a time without zone is read."""
    _, out, _ = guichet(capsys, "audit", "show", "app-1")
    rows = dict(re.findall(r"^  #(\d+)\s+(\S+)  ", out, flags=re.MULTILINE))
    assert rows["3"] == "2025-03-04T08:00:00Z"
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--as-of", rows["3"], "--json")
    assert code == 0 and [e["position"] for e in json.loads(out)["timeline"]] == [1, 2, 3]
    _, help_text, _ = guichet(capsys, "audit", "show", "--help")
    flat = " ".join(re.sub("[│╭╮╰╯─]", " ", help_text).split())  # the panel's lines, joined
    assert "a moment without a zone is Paris time" in flat
    assert "up to the end of its second" in flat


def test_a_day_to_come_is_refused_not_answered_with_today(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """--as-of 2052 for 2025 is a typo: the log knows nothing of days to come, and used to
    print today's state under that date. Today itself is a day the log can answer for."""
    code, _, err = guichet(capsys, "audit", "show", "app-1", "--as-of", "2099-01-01")
    assert code == 2 and "after today" in err
    code, _, _ = guichet(capsys, "audit", "states", "--as-of", "2099-01-01T00:00:00Z")
    assert code == 2
    today = datetime.now(UTC).date().isoformat()
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--as-of", today)
    assert code == 0, out


def test_a_department_without_its_leading_zero_is_refused_and_an_empty_selection_says_so(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--department 1`` matched nothing and exited 0 in silence; a programme of the
    catalogue that matches no file is said; one the catalogue does not know is a typo, exit
    2, with the catalogue's programmes to choose from."""
    code, _, err = guichet(capsys, "audit", "export", "--department", "1")
    assert code == 2 and "leading zero included (01, 2A, 974)" in err
    code, _, err = guichet(capsys, "audit", "states", "--department", "1")
    assert code == 2
    for command in ("export", "states"):
        kept = tmp_path / f"{command}.out"
        code, out, err = guichet(capsys, "audit", command, "--programme", "nope", "-o", str(kept))
        assert code == 2 and "no programme of the catalogue, has that id" in err
        assert "dsil-detr-investissement" in err
        assert not kept.exists() and "written" not in out + err  # refused before writing
        code, _, err = guichet(capsys, "audit", command, "--department", "99")
        assert code == 2 and "--department 99: no commune of the registry is in it" in err
    code, _, err = guichet(capsys, "audit", "export", "--programme", "france-services-implantation")
    assert code == 0 and "no file of the log matches the selection" in err
    code, _, err = guichet(capsys, "audit", "states", "--programme", "france-services-implantation")
    assert code == 0 and "note: no file of the log matches the selection" in err


def test_a_checkpoints_file_that_holds_none_is_refused(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An export holding no checkpoint vouches for nothing: refused, as the journal page
    refuses it, not taken as a file that agrees with the log."""
    empty = tmp_path / "empty.json"
    empty.write_text('{"format": "guichet-checkpoints-v1", "checkpoints": []}')
    public = public_key_text(Ed25519PrivateKey.generate().public_key())
    args = ("audit", "verify", "--checkpoints", str(empty), "--public-key", public)
    code, _, err = guichet(capsys, *args)
    assert code == 2 and "holds no checkpoint: it vouches for nothing" in err


@pytest.mark.parametrize(
    ("written", "up_to"),
    [
        ("2025-03-04T08:00:00Z", datetime(2025, 3, 4, 8, 0, 0, 999_999, tzinfo=UTC)),
        ("2025-03-04T09:00+01:00", datetime(2025, 3, 4, 8, 0, 59, 999_999, tzinfo=UTC)),
        ("2025-03-04T08:00:00.25Z", datetime(2025, 3, 4, 8, 0, 0, 250_000, tzinfo=UTC)),
        ("2025-03-04 09:00:00", datetime(2025, 3, 4, 8, 0, 0, 999_999, tzinfo=UTC)),
    ],
)
def test_a_moment_stands_for_the_whole_second_or_minute_it_is_written_to(
    written: str, up_to: datetime
) -> None:
    """The timeline prints seconds: an event it shows at 08:00:00 may have happened at
    08:00:00.4, and an --as-of pasted from that row must keep it."""
    assert parse_as_of(written) == up_to


def test_a_log_cut_short_is_headed_by_what_was_found_not_a_position_past_its_end() -> None:
    """« ALTERED SOMEWHERE IN POSITIONS 4..8 — … the log ends at 7 »: the headline named a
    position the log does not hold, and a range its own sentence contradicted."""
    from audit.findings import AuditReport, Finding
    from console.auditing_verify import _verify_text

    problem = (
        "position 8: the checkpoint of position 8 signed at 2025-06-01T12:00:00Z vouches for "
        "position 8 but the log ends at 7: events deleted at the end, or anywhere in positions "
        "4..7 and the rest renumbered"
    )
    cut = Finding(position=4, shows_at=8, cut_after=7, problem=problem)
    report = AuditReport(
        ok=False, checked=7, head_position=7, first_bad_position=4, problem=problem,
        findings=(cut,), checkpoints_checked=1,
    )  # fmt: skip
    assert _verify_text(report)[1] == (
        f"LOG CUT SHORT: EVENTS DELETED AFTER POSITION 7, OR IN POSITIONS 4..7 — {problem}"
    )
