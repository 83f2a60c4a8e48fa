"""Option parsing of the ``guichet`` CLI: exact euros, actors, errors as one sentence."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from console import connection
from console.actions import build_command, command_models, kebab
from console.cli import app, load_commands
from console.help_texts import EXAMPLES
from console.parsing import InputError, euros_to_cents, format_euros, parse_actor
from console.people import precheck, read_request
from domain.commands import ClaimPayment, DecideFunding, RevisePlan

load_commands()
runner = CliRunner()
UNREACHABLE = {"TEMPORAL_ADDRESS": "127.0.0.1:1"}


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("1234.50", 123450),
        ("0.29", 29),  # 0.29 * 100 is 28.999999999999996 in floats
        ("0.1", 10),
        ("12,34", 1234),
        ("1 234.5", 123450),
        ("1_000", 100000),
        ("€40000", 4000000),
        ("0", 0),
        ("100000000000.00", 10**13),
        ("12\u202f500,50\u00a0€", 1250050),  # as a French page writes it
        ("1 250 000", 125000000),
    ],
)
def test_euros_convert_exactly_to_cents(typed: str, cents: int) -> None:
    assert euros_to_cents(typed) == cents


@pytest.mark.parametrize(
    "typed",
    [
        "1.005",
        "-1",
        "1e3",
        "abc",
        "",
        "1.2.3",
        "nan",
        "100000000000.01",
        "1 2 5",
        "12 50",
        "12 345678",
        "٣٤",
        "１２",
        "12.500,50",
        "12,500.50",
    ],
)
def test_euros_refuse_what_is_not_exact(typed: str) -> None:
    with pytest.raises(InputError):
        euros_to_cents(typed)


@given(st.integers(min_value=0, max_value=10**13))
def test_euros_round_trip(cents: int) -> None:
    assert euros_to_cents(f"{cents // 100}.{cents % 100:02d}") == cents
    assert euros_to_cents(format_euros(cents).replace(",", "")) == cents


def test_actor_roles_and_extras() -> None:
    assert parse_actor("caseworker:alice").role == "caseworker"
    cofinancer = parse_actor("cofinancer:prefecture-01:DETR")
    assert (cofinancer.role, cofinancer.id, cofinancer.funder) == (
        "cofinancer",
        "prefecture-01",
        "DETR",
    )
    applicant = parse_actor("applicant:mairie:01053")
    assert (applicant.insee, applicant.funder) == ("01053", None)
    assert parse_actor("payment-officer:carol").role == "payment_officer"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("alice", "must be role:id"),
        ("king:arthur", "unknown role"),
        ("cofinancer:prefecture", "acts for one funder"),
        ("caseworker:alice:DETR", "only a co-financer"),
        ("caseworker:", "must be role:id"),
    ],
)
def test_actor_errors_are_sentences(typed: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        parse_actor(typed)


def test_every_person_command_has_a_subcommand_and_an_example() -> None:
    names = {str(model.model_fields["type"].default) for model in command_models()}
    assert "SubmitApplication" not in names
    assert not names & {"RecordDisbursement", "RecordPaymentFailure", "LapseAward"}
    assert "DecideFunding" in names and "RecordRepayment" in names
    assert names <= set(EXAMPLES)
    registered = {command.name for command in app.registered_commands}
    assert {kebab(name) for name in names} <= registered


def test_money_options_become_exact_cents() -> None:
    application_id, command = build_command(
        ClaimPayment,
        {"application_id": "app-1", "kind": "interim", "amount_cents": "1234.56",
         "eligible_expense_cents": "99999.99", "proof_reference": "F-1",
         "with_bank_guarantee": False},
        "applicant:mairie:01053",
    )  # fmt: skip
    assert application_id == "app-1"
    assert isinstance(command, ClaimPayment)
    assert (command.amount_cents, command.eligible_expense_cents) == (123456, 9999999)


def test_plan_from_a_toml_file(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(
        "total_cost_cents = 1000\nsubsidisable_base_cents = 1000\n"
        '[[lines]]\nline_id = "owner"\nfunder = "OWNER"\nkind = "owner"\n'
        "requested_cents = 1000\n",
        encoding="utf-8",
    )
    _, command = build_command(
        RevisePlan, {"application_id": "a", "plan": str(plan), "note": None}, "applicant:mm:01034"
    )
    assert isinstance(command, RevisePlan) and command.plan.total_cost_cents == 1000


def test_flags(tmp_path: Path) -> None:
    _, command = build_command(
        DecideFunding,
        {"application_id": "a", "line_id": "detr", "approve": False, "granted_cents": None,
         "note": None},
        "cofinancer:pp:DETR",
    )  # fmt: skip
    assert isinstance(command, DecideFunding) and command.approve is False


def _invoke(args: list[str], env: dict[str, str | None] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.stdout, result.stderr


def test_a_third_decimal_is_a_usage_error() -> None:
    code, out, err = _invoke(
        ["decide-funding", "X", "--line-id", "detr", "--approve", "--granted", "1.005",
         "--as", "cofinancer:pp:DETR"],
        UNREACHABLE,
    )  # fmt: skip
    assert code == 2
    assert err.startswith("guichet: --granted '1.005' is not an amount in euros")
    assert "Traceback" not in err + out


def test_a_bad_choice_is_a_usage_error_sentence() -> None:
    code, _, err = _invoke(
        ["request-correction", "X", "--reason", "wrong", "--message", "m", "--as", "caseworker:aa"],
        UNREACHABLE,
    )
    assert code == 2
    assert err.startswith("guichet: request-correction: --reason:")
    assert err.count("\n") == 1


def test_a_bad_actor_is_a_usage_error() -> None:
    code, _, err = _invoke(["declare-complete", "X", "--as", "alice"], UNREACHABLE)
    assert (code, err.startswith("guichet: --as 'alice' must be role:id")) == (2, True)


def test_unreachable_temporal_is_exit_1_with_the_hint(tmp_path: Path) -> None:
    """Chosen by TEMPORAL_ADDRESS: check that server; found nowhere: start `guichet dev`."""
    code, _, err = _invoke(["declare-complete", "X", "--as", "caseworker:aa"], UNREACHABLE)
    assert code == 1
    assert err == (
        "guichet: Temporal is not reachable at 127.0.0.1:1 (TEMPORAL_ADDRESS): check that a "
        "server runs there and that this machine may reach it\n"
    )
    dev = {"temporal_address": "127.0.0.1:1", "pid": os.getpid()}  # a `guichet dev` running
    (tmp_path / "dev.json").write_text(json.dumps(dev))
    code, _, err = _invoke(
        ["declare-complete", "X", "--as", "caseworker:aa"],
        {"TEMPORAL_ADDRESS": None, "GUICHET_STATE_DIR": str(tmp_path)},
    )
    assert code == 1
    assert err == (
        "guichet: Temporal is not reachable at 127.0.0.1:1: start it with `guichet dev` "
        "or set TEMPORAL_ADDRESS\n"
    )


def test_an_unusable_temporal_tls_setting_is_named_before_connecting(tmp_path: Path) -> None:
    """A CA file that is not there: exit 2 naming the settings, not "unreachable"."""
    missing = tmp_path / "ca.pem"
    code, _, err = _invoke(
        ["list"], {**UNREACHABLE, "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(missing)}
    )
    assert code == 2
    assert err.startswith(
        "guichet: the Temporal TLS or API-key settings (TEMPORAL_TLS_*, TEMPORAL_API_KEY, "
        "TEMPORAL_CONFIG_FILE) cannot be used: "
    )
    assert str(missing) in err


def _request(tmp_path: Path, insee: str, suffix: str = ".json") -> Path:
    request = {
        "programme_id": "dsil-detr-investissement",
        "insee": insee,
        "project_title": "Salle des fêtes",
        "plan": {
            "total_cost_cents": 10_000_00,
            "subsidisable_base_cents": 10_000_00,
            "lines": [
                {"line_id": "owner", "funder": "OWNER", "kind": "owner",
                 "requested_cents": 5_000_00},
                {"line_id": "detr", "funder": "DETR", "kind": "public", "dotation": "DETR",
                 "requested_cents": 5_000_00},
            ],
        },
    }  # fmt: skip
    path = tmp_path / f"request{suffix}"
    path.write_text(json.dumps(request), encoding="utf-8")
    return path


def test_submit_refuses_an_ineligible_commune_before_connecting(tmp_path: Path) -> None:
    # 01001 is not on the PVD list; with Temporal unreachable, reaching it would say so.
    code, _, err = _invoke(
        ["submit", str(_request(tmp_path, "01001")), "--as", "applicant:mairie:01001"], UNREACHABLE
    )
    assert code == 1
    assert err.startswith("guichet: not eligible: L'Abergement-Clémenciat (01001) is not on")
    assert "[pvd-membership;" in err


def test_submit_names_the_catalogue_s_programmes_for_one_it_does_not_have(
    tmp_path: Path,
) -> None:
    """« shopin » for « bdt-shopin-diagnostic »: exit 2 with the catalogue's ids."""
    path = _request(tmp_path, "01033")
    path.write_text(path.read_text().replace("dsil-detr-investissement", "shopin"))
    code, _, err = _invoke(["submit", str(path), "--as", "applicant:mairie:01033"], UNREACHABLE)
    assert code == 2 and "programme_id 'shopin' is no programme of the catalogue (" in err
    assert "bdt-shopin-diagnostic" in err


def test_submit_refuses_a_malformed_file(tmp_path: Path) -> None:
    broken = tmp_path / "request.json"
    broken.write_text("{ not json", encoding="utf-8")
    code, _, err = _invoke(["submit", str(broken), "--as", "applicant:mm:01034"], UNREACHABLE)
    assert code == 2 and err.startswith(f"guichet: {broken} is not valid json")
    missing = tmp_path / "bad.toml"
    missing.write_text('programme_id = "x"\n', encoding="utf-8")
    code, _, err = _invoke(["submit", str(missing), "--as", "applicant:mm:01034"], UNREACHABLE)
    assert code == 2 and err == (
        f"guichet: {missing} is not a valid request: insee: Field required; "
        "project_title: Field required; plan: Field required\n"
    )  # every problem at once, not one per try


def test_submit_refuses_a_contact_address_that_mail_cannot_reach(tmp_path: Path) -> None:
    """The file's notices go to contact_email: "Mairie <m@v.fr>" or a missing domain would
    send them nowhere, and the commune would learn nothing."""
    path = _request(tmp_path, "01034")
    for address in ("Mairie <urbanisme@mairie.fr>", "urbanisme@mairie", "a@b.fr, c@d.fr"):
        request = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps({**request, "contact_email": address}), encoding="utf-8")
        code, _, err = _invoke(["submit", str(path), "--as", "applicant:mm:01034"], UNREACHABLE)
        assert code == 2, err
        assert err.startswith(f"guichet: {path}: contact_email {address!r} is not one e-mail")


def test_submit_refuses_an_encoded_word_in_the_contact_address(tmp_path: Path) -> None:
    """« =? » opens an RFC 2047 encoded word, which mail delivery refuses: the request file
    was taken, and the commune learnt of it only when its notices went undelivered."""
    path = _request(tmp_path, "01034")
    address = "=?utf-8?q?mairie?=@belley.fr"
    request = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**request, "contact_email": address}), encoding="utf-8")
    code, _, err = _invoke(["submit", str(path), "--as", "applicant:mm:01034"], UNREACHABLE)
    assert code == 2, err
    assert err.startswith(f"guichet: {path}: contact_email {address!r} is not one e-mail")
    assert "without '=?'" in err


EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("example", sorted(EXAMPLES_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_the_example_requests_pass_the_precheck_and_their_plans_serve_revisions(
    example: Path,
) -> None:
    """Each request in examples/ (the README's) is valid and eligible, and revise-plan takes
    the plan of a request file."""
    request = read_request(example)
    precheck(request)  # raises when a rule fails
    _, command = build_command(
        RevisePlan,
        {"application_id": "a", "plan": str(example), "note": None},
        "applicant:mm:01034",
    )
    assert isinstance(command, RevisePlan) and command.plan == request.plan


def test_list_refuses_quotes_in_filters() -> None:
    """The programme, the one filter not checked against a list (a retired programme's files
    are still listed), goes into the visibility query quoted or not at all."""
    code, _, err = _invoke(["list", "--programme", "x' OR '1'='1"], UNREACHABLE)
    assert code == 2 and "quotes" in err
    code, _, err = _invoke(["list", "--status", "x' OR '1'='1"], UNREACHABLE)
    assert code == 2 and "use one of" in err


def test_a_refused_value_is_named_by_the_option_it_was_typed_in(tmp_path: Path) -> None:
    """Options, not the model's field names; inside a plan file, the file and the path."""
    code, _, err = _invoke(
        ["order-payment", "X", "--payment-number", "0", "--as", "payment_officer:cc"], UNREACHABLE
    )
    assert code == 2 and err.startswith("guichet: order-payment: --payment-number: "), err
    plan = tmp_path / "plan.toml"
    plan.write_text('programme_id = "x"\n', encoding="utf-8")
    code, _, err = _invoke(
        ["revise-plan", "X", "--plan", str(plan), "--as", "caseworker:aa"], UNREACHABLE
    )
    assert code == 2
    assert f"--plan {plan}: programme_id: Extra inputs are not permitted" in err, err


def test_a_server_that_takes_the_connection_but_never_answers_is_not_called_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Something listens at TEMPORAL_ADDRESS (the kernel completes the connection) but never
    answers: the sentence says to check the port and the server, not to start one."""
    monkeypatch.setattr(connection, "CONNECT_TIMEOUT", 0.5)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        code, _, err = _invoke(["list"], {"TEMPORAL_ADDRESS": address})
    assert code == 1
    assert err == (
        f"guichet: Temporal at {address} did not answer in time: check that this is "
        "Temporal's gRPC port (7233 by default, not the web UI's) and that the server is up\n"
    )


def test_a_connection_taken_but_never_answered_is_said_so() -> None:
    """The SDK's own words after 30 s on such a server (measured with a listener that never
    answers) lead to the port-and-server sentence, not to "start guichet dev"."""
    said = connection.unreachable(
        "127.0.0.1:7998",
        RuntimeError(
            "Failed client connect: `get_system_info` call error after connection: Status { "
            'code: Cancelled, message: "Timeout expired" }'
        ),
    )
    assert said.message.startswith(
        "Temporal at 127.0.0.1:7998 took the connection but did not answer: check that this "
        "is Temporal's gRPC port"
    )


def test_unreachable_temporal_without_a_state_folder_says_how_to_name_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing says where Temporal is: a `guichet dev --state-dir DIR` may run all the same,
    and the other commands find it only when told the folder."""
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.delenv("GUICHET_STATE_DIR", raising=False)
    assert str(connection.unreachable("127.0.0.1:7233")) == (
        "Temporal is not reachable at 127.0.0.1:7233: start it with `guichet dev`; for a "
        "`guichet dev --state-dir DIR` already running, set GUICHET_STATE_DIR=DIR; or set "
        "TEMPORAL_ADDRESS"
    )
    # A folder named, but no `guichet dev` published its addresses there: mistyped?
    monkeypatch.setenv("GUICHET_STATE_DIR", "/tmp/nonexist")
    assert str(connection.unreachable("127.0.0.1:7233")) == (
        "Temporal is not reachable at 127.0.0.1:7233: no `guichet dev` runs from "
        "GUICHET_STATE_DIR=/tmp/nonexist (no dev.json there): check the folder, start one "
        "with `guichet dev --state-dir /tmp/nonexist`, or set TEMPORAL_ADDRESS"
    )


def test_an_actor_is_named_as_people_sign_in() -> None:
    """« Alice » passed the four-eyes rule where « alice », who accepted the file, is refused:
    ids are compared exactly, so ``--as`` takes them as accounts are named."""
    for written in ("payment_officer:Alice", "caseworker:agent@mairie.fr", "caseworker:a"):
        with pytest.raises(InputError, match="is not an account name as people sign in"):
            parse_actor(written)
    assert parse_actor("payment_officer:carol").id == "carol"
    # A funder as plans name it: « detr » decided no line of DETR, after being offered it.
    assert parse_actor("cofinancer:prefecture:detr").funder == "DETR"
    assert parse_actor("cofinancer:region-aura:Région").funder == "REGION"


def test_actions_says_why_a_command_its_role_may_send_is_not_for_now() -> None:
    """A programme paid once takes its claim when the works are completed; a claim waits for
    the payment under way; an acceptance for the lines still to decide."""
    from console.actions import _not_yet
    from tests.unit.builders import FLAT_PROGRAMME, apply, claim, to_instruction, to_started

    started = apply(to_started())
    assert _not_yet("ClaimPayment", started) == ""
    once = started.replaced({"programme": FLAT_PROGRAMME})
    assert _not_yet("ClaimPayment", once).startswith("this programme pays once")
    claimed = apply([*to_started(), claim("advance", 1_000)])
    assert _not_yet("ClaimPayment", claimed) == "payment 1 (advance) is still claimed"
    pending = _not_yet("AcceptApplication", apply(to_instruction()))
    assert pending == "lines still wait for their co-financer's decision: detr, region"
    from domain.commands import RefuseApplication
    from tests.unit.builders import CASEWORKER, at

    refused = apply([*to_instruction(), RefuseApplication(actor=CASEWORKER, at=at(3), reason="x")])
    assert _not_yet("WithdrawApplication", refused).startswith("the application is refused: ")
    assert _not_yet("WithdrawApplication", apply(to_instruction())) == ""
