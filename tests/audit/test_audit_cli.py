"""``guichet audit`` on a SQLite log: exit codes 0 / 1 / 2, one-sentence errors, secret keys."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog
from audit_support import Database, file_events, record, sqlite_log_for_guichet

from domain.commands import AttachDocument
from domain.decider import decide, fold
from domain.documents import Document
from eventlog.documents import DocumentStore
from tests.cli.support import guichet
from tests.unit.builders import CASEWORKER, at


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    """A SQLite log with one file, that ``guichet`` finds through GUICHET_DATABASE_URL."""
    return sqlite_log_for_guichet(tmp_path, monkeypatch, {"app-1": None})


def test_show_prints_the_state_and_timeline_as_of_a_date(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """As of a day, only that day's events count; the JSON carries state and timeline."""
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--as-of", "2025-03-04", "--json")
    view = json.loads(out)
    assert code == 0
    assert [e["type"] for e in view["timeline"]][-1] == "ApplicationDeclaredComplete"
    assert view["state"]["status"] == "in_instruction"
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--position", "2")
    assert code == 0 and "status      submitted (version 2)" in out
    assert "rule " in out  # the eligibility verdicts are cited under their event


def test_verify_exits_0_on_an_intact_log_and_1_naming_the_first_bad_position(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Consistent: 0, but not 'intact' with nothing to vouch for it; a row altered behind the
    triggers: 1 and its position."""
    code, out, err = guichet(capsys, "audit", "verify")
    assert code == 0 and "the chain is consistent, but no checkpoint" in out
    assert err == ""  # no TTY: no progress bar
    asyncio.run(
        db.tamper(
            "UPDATE eventlog_events SET data = replace(data, ':\"', ':\"X') WHERE position = 9"
        )
    )
    code, out, _ = guichet(capsys, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["first_bad_position"] == 9
    code, out, err = guichet(capsys, "audit", "verify", "--progress")
    assert code == 1 and "FIRST BAD POSITION: 9" in out and "verifying [" in err


def test_usage_errors_exit_2_with_one_sentence(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Bad dates, conflicting options, unreadable files: exit 2 and one line on stderr."""
    for argv in (
        ["audit", "show", "app-1", "--as-of", "yesterday-ish"],
        ["audit", "show", "app-1", "--as-of", "2025-03-01", "--position", "3"],
        ["audit", "verify", "--checkpoints", str(tmp_path / "absent.json")],
        ["audit", "export"],
        ["audit", "export", "app-1", "--format", "xlsx"],
        ["audit", "schedule-checkpoints", "--every", "5s"],
        ["audit", "checkpoint"],
    ):
        code, _, err = guichet(capsys, *argv)
        assert code == 2, argv
        assert err.startswith("guichet: ") and err.count("\n") == 1, (argv, err)


def test_problems_found_exit_1_with_one_sentence(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown file is a problem found (exit 1), said in one sentence."""
    for cut in ([], ["--as-of", "2025-03-04"], ["--position", "2"]):
        code, out, err = guichet(capsys, "audit", "show", "nope", *cut)
        assert code == 1 and err == "guichet: no application nope in the event log\n", cut
        assert out == ""


def test_show_before_the_first_event_says_when_the_file_begins(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """A day before the submission: no state to show, but where the file's record begins."""
    code, out, _ = guichet(capsys, "audit", "show", "app-1", "--as-of", "2020-01-01")
    assert code == 0
    assert "no event yet: the file begins at position 1, 2025-03-03T08:00:00Z" in out
    assert "status" not in out


def test_keys_sign_export_and_verify_without_ever_showing_the_private_key(
    db: Database,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """keygen (0600) → checkpoint → export → verify with the public key (given, or from
    GUICHET_PUBLIC_KEY_FILE); the private key never shows."""
    key_file = tmp_path / "signing.pem"
    with structlog.testing.capture_logs() as logs:
        code, public, _ = guichet(capsys, "audit", "keygen", str(key_file))
        assert code == 0 and stat.S_IMODE(key_file.stat().st_mode) == 0o600
        secret = key_file.read_text()
        secret_body = "".join(secret.splitlines()[1:-1])
        monkeypatch.setenv("GUICHET_SIGNING_KEY_FILE", str(key_file))
        outputs = [public]
        for argv in (
            ["audit", "export-key"],
            ["audit", "checkpoint"],
            ["audit", "checkpoint", "--json"],
            ["audit", "export-checkpoints", str(tmp_path / "kept.json")],
            ["audit", "verify", "--checkpoints", str(tmp_path / "kept.json")],
        ):
            code, out, err = guichet(capsys, *argv)
            assert code == 0, (argv, err)
            outputs += [out, err]
        assert outputs[1].strip() == public.strip()
        assert outputs[3].startswith("signed position 11 ")
        assert json.loads(outputs[5])["created"] is False  # the head was signed already
        monkeypatch.setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")  # status: the log's lines only
        checks = json.loads(guichet(capsys, "status", "--json")[1])["checks"]
        (signed,) = [check["detail"] for check in checks if check["name"] == "checkpoints"]
        assert signed.startswith("the last, of position 11, signed ")
        assert signed.endswith("(0 events appended since)")
        monkeypatch.delenv("TEMPORAL_ADDRESS")
        assert "1 checkpoint(s) checked, 1 matching" in outputs[9]  # the file's is the stored
        pub_file = tmp_path / "guichet.pub"
        pub_file.write_text(public)
        monkeypatch.delenv("GUICHET_SIGNING_KEY_FILE")
        argv = ["audit", "verify", "--checkpoints", str(tmp_path / "kept.json")]
        code, out, _ = guichet(capsys, *argv, "--public-key", str(pub_file))
        assert code == 0 and "the log is intact" in out
        assert guichet(capsys, *argv)[0] == 2  # a file of checkpoints needs a key to trust
        monkeypatch.setenv("GUICHET_PUBLIC_KEY_FILE", str(pub_file))  # what an auditor holds
        code, out, _ = guichet(capsys, *argv)
        assert code == 0 and "1 checkpoint(s) checked, 1 matching" in out
        assert "not checked" not in out
        monkeypatch.delenv("GUICHET_PUBLIC_KEY_FILE")
        code, out, _ = guichet(capsys, "audit", "keygen", str(tmp_path / "other.pem"))
        code, out, _ = guichet(capsys, *argv, "--public-key", out.strip())
        assert code == 1 and "is refused: key" in out
    everything = "".join(outputs) + json.dumps(logs, default=str)
    assert secret_body not in everything and secret_body[:24] not in everything


def test_a_malformed_key_is_reported_without_its_content(
    db: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong GUICHET_SIGNING_KEY says where the key was looked for, never what it held."""
    monkeypatch.setenv("GUICHET_SIGNING_KEY", "not-a-key-but-a-SECRET-value")
    code, out, err = guichet(capsys, "audit", "checkpoint")
    assert code == 2 and "GUICHET_SIGNING_KEY is neither" in err
    assert "SECRET" not in out + err


def test_export_writes_csv_for_a_department_and_jsonl_for_a_file(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """--department selects from the log; JSON Lines go to stdout, one event per line."""
    target = tmp_path / "dep.csv"
    code, _, err = guichet(
        capsys, "audit", "export", "--department", "24", "--format", "csv", "-o", str(target)
    )
    assert code == 0 and target.read_bytes().startswith(b"\xef\xbb\xbf")
    assert "event(s) written" in err
    code, out, _ = guichet(capsys, "audit", "export", "app-1")
    assert code == 0 and len(out.splitlines()) == len(file_events())


def test_states_writes_the_portfolio_and_sums_it_up(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One CSV row per file as of the date; files per status and totals on stderr; JSON Lines
    on stdout; contradictory or unknown options are usage errors."""
    target = tmp_path / "portfolio.csv"
    code, _, err = guichet(capsys, "audit", "states", "--as-of", "2025-03-04", "-o", str(target))
    assert code == 0 and target.read_bytes().startswith(b"\xef\xbb\xbf")
    lines = target.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[1].startswith("app-1;in_instruction;")
    assert (
        "1 file(s) (in_instruction 1); awarded €0.00, paid €0.00, repaid €0.00, repayments due "
        "€0.00, final subsidy of the closed files €0.00; as of 2025-03-04T22:59:59Z, log as of "
        "position"  # the day's end in Paris, in UTC
    ) in err
    assert str(target) in err
    code, out, _ = guichet(capsys, "audit", "states", "--format", "jsonl")
    assert code == 0 and json.loads(out)["application_id"] == "app-1"
    code, out, err = guichet(capsys, "audit", "states", "--department", "38")
    assert code == 0 and len(out.splitlines()) == 1 and "0 file(s); awarded" in err
    for argv, message in (
        (["--format", "xml"], "use csv or jsonl"),
        (["--as-of", "2025-03-04", "--position", "3"], "not both"),
        (["--as-of", "yesterday"], "is not a date"),
    ):
        code, _, err = guichet(capsys, "audit", "states", *argv)
        assert code == 2 and message in err, argv


def test_the_progress_bar_names_its_work_and_ends_its_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """One line redrawn in place, naming the work, ended with a newline at 100 %."""
    from console.auditing import ProgressBar

    bar = ProgressBar("rebuilding")
    bar(500, 1_000)
    bar(1_000, 1_000)
    err = capsys.readouterr().err
    assert err == (
        "\rrebuilding [##########          ] 500 / 1,000 events  50%"
        "\rrebuilding [####################] 1,000 / 1,000 events 100%\n"
    )


def test_a_reader_that_stops_early_is_not_a_log_failure(tmp_path: Path) -> None:
    """`guichet audit states | head`: the command leaves quietly, without blaming the log."""
    import os
    import subprocess

    from tests.cli.test_entry_point import guichet_command

    database = Database("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'events.db'}")

    async def seed() -> None:
        log = database.open()
        await log.migrate()
        for n in range(40):  # about 120 KB of JSON Lines: more than a pipe holds
            await record(log, f"app-{n:02d}", file_events(f"app-{n:02d}"))
        await log.close()

    asyncio.run(seed())
    env = {**os.environ, "GUICHET_DATABASE_URL": database.url, "GUICHET_STATE_DIR": str(tmp_path)}
    for argv in (["states", "--format", "jsonl"], ["export", "--department", "24"]):
        reader = subprocess.Popen(
            [*guichet_command(), "audit", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert reader.stdout is not None and reader.stdout.readline()
        reader.stdout.close()  # what `head -1` does once it has its line
        _, err = reader.communicate(timeout=60)
        assert reader.returncode == 1, argv
        assert b"could not be read" not in err and b"Traceback" not in err, err
        assert b"cannot write" not in err and b"Broken pipe" not in err, err  # nothing failed


def test_an_output_that_cannot_be_written_is_said_about_the_file(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """-o into a missing folder: exit 2 naming the file, not a failure of the event log."""
    target = tmp_path / "missing" / "out.csv"
    for argv in (["audit", "export", "app-1"], ["audit", "states"]):
        code, _, err = guichet(capsys, *argv, "-o", str(target))
        assert code == 2, argv
        assert err == f"guichet: cannot write {target}: No such file or directory\n", argv


def test_a_failed_export_leaves_the_earlier_file_as_it_was(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An existing file is the auditor's evidence: replaced only with --force. An export
    that fails after its file was created neither truncates the earlier copy nor leaves a
    partial file beside it; one that succeeds replaces it, keeping its mode."""
    target = tmp_path / "trail.jsonl"
    target.write_text("the earlier export\n", encoding="utf-8")
    target.chmod(0o640)
    for argv in (["audit", "export", "app-1"], ["audit", "states"]):
        code, _, err = guichet(capsys, *argv, "-o", str(target))
        assert code == 2 and f"{target} already exists: an earlier export" in err, argv
        assert "pass --force to replace it" in err
    assert target.read_text(encoding="utf-8") == "the earlier export\n"
    code, _, err = guichet(capsys, "audit", "export", "app-404", "-o", str(target), "--force")
    assert code == 1 and err == "guichet: no application app-404 in the event log\n"
    assert target.read_text(encoding="utf-8") == "the earlier export\n"
    code, _, _ = guichet(capsys, "audit", "export", "app-1", "-o", str(target), "--force")
    assert code == 0
    assert json.loads(target.read_text(encoding="utf-8").splitlines()[0])["stream_id"] == "app-1"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(path.name for path in tmp_path.iterdir() if "trail" in path.name) == [
        "trail.jsonl"
    ]


def test_a_full_disk_is_said_about_the_output_not_the_log(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing to /dev/full (every write fails with ENOSPC), as a file or behind stdout:
    exit 1 naming the output, never "the event log could not be read"."""
    for argv in (["audit", "export", "app-1"], ["audit", "states"]):
        code, _, err = guichet(capsys, *argv, "-o", "/dev/full")
        assert code == 1, argv
        assert err == "guichet: cannot write /dev/full: No space left on device\n", argv
    import os
    import subprocess

    from tests.cli.test_entry_point import guichet_command

    with open("/dev/full", "w") as full:
        finished = subprocess.run(
            [*guichet_command(), "audit", "states", "--format", "jsonl"],
            stdout=full,
            stderr=subprocess.PIPE,
            env=dict(os.environ),
            timeout=60,
        )
    assert finished.returncode == 1
    assert finished.stderr == b"guichet: cannot write the output: No space left on device\n"


def test_a_public_key_that_is_no_file_and_no_key_says_both(
    db: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A mistyped key file path is not reported as a malformed key only."""
    missing = tmp_path / "guichet.pub"
    code, _, err = guichet(capsys, "audit", "verify", "--public-key", str(missing))
    assert code == 2
    assert err == (
        f"guichet: --public-key '{missing}' is no file here, nor a key (a PEM Ed25519 public "
        "key, or the base64 of its 32 raw bytes)\n"
    )


def test_an_audit_of_a_log_that_is_not_there_names_the_command_that_creates_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`guichet migrate` creates a log (the advice was `guichet dev` only)."""
    path = tmp_path / "events.db"
    monkeypatch.setenv("GUICHET_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("GUICHET_STATE_DIR", str(tmp_path / "state"))
    code, _, err = guichet(capsys, "audit", "verify")
    assert code == 1
    assert err.startswith(f"guichet: no event log at {path}: set GUICHET_DATABASE_URL to the log")
    assert not path.exists()


def test_an_export_that_selects_nothing_says_so_on_stderr(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """To stdout, an empty export is still exit 0, with a sentence telling why it is empty."""
    code, out, err = guichet(capsys, "audit", "export", "--department", "38")
    assert (code, out) == (0, "")
    assert err == "no event written: no file of the log matches the selection\n"


def test_verify_hashes_each_attached_document_again_and_names_one_not_as_attached(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """The chain holds the hash; verify proves the bytes: one altered behind the triggers
    fails the verification naming every file it is attached to, with what to do; one
    missing too; the file's own view says it and exits 1."""
    content = b"%PDF-1.7\ndevis signe"
    kept = hashlib.sha256(content).hexdigest()
    missing = "7" * 64

    def document(sha256: str, name: str) -> Document:
        return Document(sha256=sha256, filename=name, media_type="application/pdf",
                        size_bytes=len(content), kind="quote")  # fmt: skip

    async def attach() -> None:
        log = db.open()
        try:
            assert await DocumentStore(log.engine).keep(content, "application/pdf") == kept
            await record(log, "app-2", file_events("app-2"))
            attached = {"app-1": [(kept, "devis.pdf"), (missing, "rib.pdf")],
                        "app-2": [(kept, "devis-copie.pdf")]}  # fmt: skip
            for application_id, documents in attached.items():
                state = fold(file_events(application_id))
                for sha256, name in documents:
                    command = AttachDocument(
                        actor=CASEWORKER, at=at(40), document=document(sha256, name)
                    )
                    events = decide(command, state)
                    state = fold(events, state)
                    await record(log, application_id, events)
        finally:
            await log.close()

    asyncio.run(attach())
    code, out, _ = guichet(capsys, "audit", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["documents_checked"] == 2
    assert [f["document"] for f in report["findings"]] == [missing]
    assert "rib.pdf" in report["problem"] and "missing from the document store" in report["problem"]

    asyncio.run(db.tamper(f"UPDATE eventlog_documents SET content = X'00' WHERE sha256 = '{kept}'"))
    code, out, err = guichet(capsys, "audit", "verify", "--progress")
    assert code == 1
    assert "hashing [####################] 2 / 2 documents 100%" in err  # gigabytes take time
    assert "2 attached document(s) hashed again" in out
    assert "DOCUMENT NOT AS ATTACHED — position " in out and "'devis.pdf'" in out
    assert "is altered: the stored bytes hash to" in out
    assert "it is attached to app-1 (position 23), app-2 (position 25)" in out
    assert "also: position" in out and "rib.pdf" in out
    assert out.rstrip().splitlines()[-1].startswith("what to do: restore each document's bytes")
    code, out, _ = guichet(capsys, "audit", "show", "app-2")
    assert code == 1 and "WARNING: documents of the file app-2 are not as attached" in out
    assert "position(s)" not in out  # its events themselves are sound


def test_verify_reports_the_clocks_beside_the_chain_without_failing(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ordinary clocks: one line saying so. A recorded_at set back an hour and one set before
    its business date: counted, each position with its two moments, in text and JSON, and
    the exit code stays 0 beside the chain's verdict; a wider --clock-tolerance hides them."""
    code, out, _ = guichet(capsys, "audit", "verify")
    assert code == 0
    assert (
        "clocks: recorded_at never steps back along positions nor precedes an event's "
        "business date (tolerance 60 s)\n"
    ) in out
    noon = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    moments = {p: noon + timedelta(minutes=p) for p in range(1, 12)}
    moments[5] = datetime(2026, 1, 1, 11, 4, 0, 250_000, tzinfo=UTC)  # 1 h before 4, nearly
    moments[7] = datetime(2025, 3, 7, 7, 0, tzinfo=UTC)  # an hour before it occurred
    asyncio.run(db.set_recorded_at(dict(moments)))
    code, out, _ = guichet(capsys, "audit", "verify")
    lines = out.splitlines()
    assert code == 0 and "the chain is consistent, but no checkpoint" in lines[-1]
    assert lines[1:7] == [
        "clocks (recorded_at, which the chain does not cover; tolerance 60 s): to examine, "
        "not proof of an alteration; the exit status ignores them",
        "  2 step(s) back along positions: the database's clock set back, or a recorded_at "
        "edited past the triggers?",
        "    position 5: recorded 2026-01-01T11:04:00.250Z, 60 min before position 4 "
        "(2026-01-01T12:04:00.000Z)",
        "    position 7: recorded 2025-03-07T07:00:00.000Z, 300 days before position 6 "
        "(2026-01-01T12:06:00.000Z)",
        "  1 event(s) recorded before their business date (occurred_at): a workflow clock "
        "ahead of the database's, as Temporal's time-skipping test server makes it, or a "
        "recorded_at edited?",
        "    position 7: recorded 2025-03-07T07:00:00.000Z, 60 min before its business date "
        "(2025-03-07T08:00:00.000Z)",
    ]
    code, out, _ = guichet(capsys, "audit", "verify", "--json")
    clocks = json.loads(out)["clocks"]
    assert code == 0 and json.loads(out)["ok"] is True
    assert (clocks["steps_back"], clocks["recorded_early"]) == (2, 1)
    assert clocks["first_recorded_early"] == [
        {
            "position": 7,
            "occurred_at": "2025-03-07T08:00:00Z",
            "recorded_at": "2025-03-07T07:00:00Z",
        }
    ]
    code, out, _ = guichet(capsys, "audit", "verify", "--clock-tolerance", "30000000")
    assert code == 0 and "(tolerance 3e+07 s)" in out and "step(s) back" not in out
    asyncio.run(
        db.tamper(
            "UPDATE eventlog_events SET data = replace(data, ':\"', ':\"X') WHERE position = 9"
        )
    )
    code, out, _ = guichet(capsys, "audit", "verify")
    lines = out.splitlines()  # the failure's headline first, the clocks before what to do
    assert code == 1 and lines[1].startswith("FIRST BAD POSITION: 9")
    assert lines[2].startswith("clocks (recorded_at") and lines[-1].startswith("what to do")


def test_verify_counts_clock_findings_past_the_first_few_and_refuses_a_tolerance_out_of_range(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every event recorded a day before its business date: the first five named, the rest
    counted; a --clock-tolerance negative, infinite, huge or no number is bad input (exit 2)."""
    asyncio.run(
        db.set_recorded_at({p: datetime(2025, 3, 1, 0, 0, p, tzinfo=UTC) for p in range(1, 12)})
    )
    code, out, _ = guichet(capsys, "audit", "verify")
    assert code == 0 and "step(s) back" not in out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("  ")] == [
        "  11 event(s) recorded before their business date (occurred_at)",
        *(f"    position {p}" for p in range(1, 6)),
        "    and 6 more (--json lists the first ones too)",
    ]
    for bad in ("-1", "inf", "nan", "1e20", "soon"):
        code, _, err = guichet(capsys, "audit", "verify", "--clock-tolerance", bad)
        assert code == 2 and "--clock-tolerance" in err, bad
