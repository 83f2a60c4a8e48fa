"""Pure parts of delivery and listing: settings, masking, directory files, visibility queries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.service import TLSConfig
from typer.testing import CliRunner

from activities.directory import DirectoryError, MappingDirectory, is_address, load_directory
from activities.mail import OutgoingMail, compose, mask_address, mask_addresses
from console import dev, people  # noqa: F401 (they register their commands)
from console.app import app
from console.deadlines import deadline_filter, parse_duration
from console.errors import CliError
from tests.cli.support import guichet
from workers.connection import temporal_security
from workers.settings import Settings, SettingsError
from workflows.visibility import deadline_query, digest_query, literal

NOW = datetime(2026, 11, 30, 9, 15, 30, tzinfo=UTC)


def test_smtp_settings_are_read_from_the_environment() -> None:
    """GUICHET_SMTP_* become the SMTP settings; the port follows the TLS mode by default."""
    settings = Settings.from_env(
        {
            "GUICHET_SMTP_HOST": "smtp.example.fr",
            "GUICHET_SMTP_FROM": "guichet@example.fr",
            "GUICHET_SMTP_TLS": "tls",
            "GUICHET_SMTP_USERNAME": "guichet",
            "GUICHET_SMTP_PASSWORD": "s3cret",
            "GUICHET_DIRECTORY_FILE": "/etc/guichet/directory.toml",
            "GUICHET_DIGEST_STALE_DAYS": "10",
        }
    )

    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.tls) == (
        "smtp.example.fr",
        465,
        "tls",
    )
    assert settings.smtp.password is not None
    assert settings.smtp.password.get_secret_value() == "s3cret"
    assert settings.directory_file == Path("/etc/guichet/directory.toml")
    assert settings.digest_stale_days == 10
    assert "s3cret" not in repr(settings) + str(settings) + settings.model_dump_json()
    assert "s3cret" not in repr(settings.mailer())


def test_without_smtp_host_notices_are_logged_and_the_port_can_be_set() -> None:
    """No GUICHET_SMTP_HOST: no mailer; an explicit port wins over the mode's default."""
    assert Settings.from_env({}).mailer() is None
    assert Settings.from_env({}).digest_stale_days == 7
    explicit = Settings.from_env(
        {
            "GUICHET_SMTP_HOST": "mx",
            "GUICHET_SMTP_FROM": "g@example.fr",
            "GUICHET_SMTP_PORT": "2525",
        }
    )
    assert explicit.smtp is not None
    assert (explicit.smtp.port, explicit.smtp.tls) == (2525, "starttls")


def test_an_empty_variable_counts_as_unset() -> None:
    """`TEMPORAL_NAMESPACE=` in a compose file or a blank ConfigMap value: the defaults, not an
    empty namespace, a state folder that is the current one, or a refused log format."""
    names = ("TEMPORAL_NAMESPACE", "GUICHET_TASK_QUEUE", "GUICHET_STATE_DIR",
             "GUICHET_LOG_FORMAT", "GUICHET_LOG_LEVEL", "GUICHET_DIGEST_STALE_DAYS")  # fmt: skip
    assert Settings.from_env(dict.fromkeys(names, "")) == Settings.from_env({})


@pytest.mark.parametrize(
    "env",
    [
        {"GUICHET_SMTP_HOST": "mx"},  # no From address
        {"GUICHET_SMTP_HOST": "mx", "GUICHET_SMTP_FROM": "g@example.fr", "GUICHET_SMTP_TLS": "ssl"},
        {"GUICHET_DIGEST_STALE_DAYS": "0"},
    ],
)
def test_incomplete_delivery_settings_are_refused_at_start(env: dict[str, str]) -> None:
    """A missing From, an unknown TLS mode or a zero staleness fail when settings are read."""
    with pytest.raises(ValueError):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("alice@example.fr", "a***@example.fr"),
        ("to <jean.dupont@mairie-bourg.fr>: 550", "to <j***@mairie-bourg.fr>: 550"),
        ("supervisors", "supervisors"),
        ("cofinancer:REGION", "cofinancer:REGION"),
        ("a@b.fr, c@d.fr", "a***@b.fr, c***@d.fr"),
    ],
)
def test_addresses_are_masked(text: str, masked: str) -> None:
    """Only the first letter of the local part stays; ids are not addresses."""
    assert mask_addresses(text) == masked
    assert mask_address(text) == masked


def test_composed_message_has_a_single_line_subject_and_stable_id() -> None:
    """A line break in a subject cannot inject a header; the Message-ID is the row's."""
    message_id = uuid.uuid4()
    mail = OutgoingMail(
        message_id=message_id,
        recipients=("a@example.fr",),
        subject="Dossier\r\nBcc: x@evil.example",
        body="Décision : accordée.",
    )

    message = compose(mail, "g@example.fr", NOW)

    assert message["Subject"] == "Dossier Bcc: x@evil.example"
    assert message["Bcc"] is None
    assert message["Message-ID"] == f"<{message_id}@example.fr>"


@pytest.mark.parametrize(
    ("sent_at", "header"),
    [
        (NOW, "Mon, 30 Nov 2026 10:15:30 +0100"),
        (datetime(2026, 6, 30, 22, 30, tzinfo=UTC), "Wed, 01 Jul 2026 00:30:00 +0200"),
    ],
)
def test_a_mail_is_dated_in_paris_time(sent_at: datetime, header: str) -> None:
    """The Date header reads as the mail's readers live: Paris time (CET or CEST), never
    UTC, where a mail sent at 00:30 on 1 July was dated 30 June."""
    mail = OutgoingMail(
        message_id=uuid.uuid4(), recipients=("a@example.fr",), subject="Dossier", body="."
    )

    assert compose(mail, "g@example.fr", sent_at)["Date"] == header


async def test_directory_files_in_toml_and_json(tmp_path: Path) -> None:
    """Ids map to one address or a list; an unknown id resolves to nothing."""
    toml = tmp_path / "d.toml"
    toml.write_text('alice = "alice@example.fr"\n"cofinancer:REGION" = ["r@x.fr", "s@x.fr"]\n')
    json_file = tmp_path / "d.json"
    json_file.write_text('{"supervisors": ["chef@example.fr"]}')

    directory = load_directory(toml)

    assert await directory.addresses("alice") == ("alice@example.fr",)
    assert await directory.addresses("cofinancer:REGION") == ("r@x.fr", "s@x.fr")
    assert await directory.addresses("bob") == ()
    assert await load_directory(json_file).addresses("supervisors") == ("chef@example.fr",)
    assert await MappingDirectory().addresses("alice") == ()


@pytest.mark.parametrize(
    "content", ['alice = "not an address"\n', "alice = []\n", "alice = \n", "[table]\nx = 1\n"]
)
def test_a_bad_directory_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    """The error names the file; nothing half-loaded is used."""
    path = tmp_path / "directory.toml"
    path.write_text(content)

    with pytest.raises(DirectoryError, match=r"directory\.toml"):
        load_directory(path)


def test_recipients_that_are_addresses_are_told_from_ids() -> None:
    """An address is sent to as is; anything else goes through the directory."""
    assert is_address("alice@example.fr")
    assert not is_address("alice")
    assert not is_address("cofinancer:REGION")
    assert not is_address("a b@example.fr")


def test_visibility_times_are_utc_rfc3339_literals() -> None:
    """Aware times of any zone become '…Z' literals; naive ones are refused."""
    from zoneinfo import ZoneInfo

    paris = NOW.astimezone(ZoneInfo("Europe/Paris"))
    assert literal(paris) == "'2026-11-30T09:15:30Z'"
    with pytest.raises(ValueError):
        literal(datetime(2026, 1, 1))


def test_due_within_and_overdue_translate_to_next_deadline_ranges() -> None:
    """Due within: now to now + d; overdue: before now; both: before now + d; neither: None."""
    week = timedelta(days=7)
    running = "ExecutionStatus = 'Running' AND "

    assert deadline_query(NOW, due_within=week, overdue=False) == running + (
        "GuichetNextDeadline >= '2026-11-30T09:15:30Z' "
        "AND GuichetNextDeadline < '2026-12-07T09:15:30Z'"
    )
    assert deadline_query(NOW, due_within=None, overdue=True) == running + (
        "GuichetNextDeadline < '2026-11-30T09:15:30Z'"
    )
    assert deadline_query(NOW, due_within=week, overdue=True) == running + (
        "GuichetNextDeadline < '2026-12-07T09:15:30Z'"
    )
    assert deadline_query(NOW, due_within=None, overdue=False) is None


def test_the_digest_query_asks_for_stale_or_soon_due_files() -> None:
    """Awaiting the caseworker with a last activity older than N days (from the hour: it is
    published truncated to the hour), or next deadline before the horizon."""
    query = digest_query(NOW, stale_days=7, horizon=timedelta(days=7))

    assert query == (
        "ExecutionStatus = 'Running' AND ("
        "(GuichetStatus IN ('accepted', 'in_instruction', 'submitted') "
        "AND GuichetLastActivity < '2026-11-23T09:00:00Z') "
        "OR GuichetNextDeadline < '2026-12-07T09:15:30Z')"
    )


def test_the_digest_query_with_the_log_also_asks_for_every_file_the_log_is_read_for() -> None:
    """With the log, one listing also holds every file in instruction, however recent its
    last activity (its funders' lines may still wait on them), and every file in its works
    with no deadline left (its completion deadline may have expired: the log tells whether it
    waits for its caseworker to settle it)."""
    query = digest_query(NOW, stale_days=7, horizon=timedelta(days=7), from_log=True)

    assert query == (
        "ExecutionStatus = 'Running' AND ("
        "(GuichetStatus IN ('accepted', 'in_instruction', 'submitted') "
        "AND GuichetLastActivity < '2026-11-23T09:00:00Z') "
        "OR GuichetNextDeadline < '2026-12-07T09:15:30Z' "
        "OR GuichetStatus IN ('in_instruction') "
        "OR (GuichetStatus IN ('completed', 'started') AND GuichetNextDeadline IS NULL))"
    )


@pytest.mark.parametrize(
    ("text", "duration"),
    [("7d", timedelta(days=7)), ("48h", timedelta(hours=48)), ("2W", timedelta(weeks=2))],
)
def test_durations_are_typed_as_number_and_unit(text: str, duration: timedelta) -> None:
    """``--due-within`` takes hours, days or weeks."""
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["7", "0d", "7 days", "-1d", "1.5d", ""])
def test_a_bad_duration_is_a_usage_error(text: str) -> None:
    """Anything else is refused with exit code 2 and an example."""
    with pytest.raises(CliError) as raised:
        parse_duration(text)
    assert raised.value.exit_code == 2
    assert "e.g. 7d" in raised.value.message


def test_deadline_filter_combines_with_the_caseworker_filter() -> None:
    """The CLI's clause is the shared query; other filters are ANDed before it."""
    clause = deadline_filter(NOW, "7d", overdue=False)
    assert clause == deadline_query(NOW, due_within=timedelta(days=7), overdue=False)
    assert deadline_filter(NOW, None, overdue=False) is None


def test_list_refuses_a_bad_due_within_before_connecting() -> None:
    """`guichet list --due-within soon` exits 2 without reaching any server."""
    result = CliRunner().invoke(
        app, ["list", "--due-within", "soon"], env={"TEMPORAL_ADDRESS": "127.0.0.1:1"}
    )

    assert result.exit_code == 2
    assert "--due-within 'soon'" in result.output


def test_temporal_security_comes_from_the_sdk_s_standard_variables() -> None:
    """None set: plain gRPC (the dev server). An API key turns TLS on, as Temporal Cloud
    wants; gRPC headers pass through; the address and namespace stay Guichet's own."""
    assert temporal_security({}) == {}
    cloud = temporal_security(
        {"TEMPORAL_API_KEY": "key-1", "TEMPORAL_GRPC_META_X_TENANT": "pvd",
         "TEMPORAL_ADDRESS": "elsewhere:7233", "TEMPORAL_NAMESPACE": "other"}
    )  # fmt: skip
    assert cloud == {"api_key": "key-1", "tls": True, "rpc_metadata": {"x-tenant": "pvd"}}
    pinned = temporal_security({"TEMPORAL_TLS": "true", "TEMPORAL_TLS_SERVER_NAME": "frontend"})
    assert isinstance(pinned["tls"], TLSConfig) and pinned["tls"].domain == "frontend"


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"GUICHET_CONSOLE_URL": "guichet.example.fr"}, "GUICHET_CONSOLE_URL"),
        ({"GUICHET_SMTP_HOST": "smtp.example.fr", "GUICHET_SMTP_PORT": "abc"}, "GUICHET_SMTP_PORT"),
        ({"GUICHET_DIGEST_STALE_DAYS": "0"}, "GUICHET_DIGEST_STALE_DAYS"),
    ],
)
def test_a_setting_that_cannot_be_used_is_named_by_its_variable(
    variables: dict[str, str], named: str
) -> None:
    """One sentence naming the variable and the value read, not a pydantic dump."""
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(variables)
    message = str(refused.value)
    assert message.startswith(f"{named}: ") and repr(list(variables.values())[-1]) in message


def test_the_console_s_address_is_read_for_the_mails_links() -> None:
    settings = Settings.from_env({"GUICHET_CONSOLE_URL": "https://guichet.example.fr"})
    assert str(settings.console_url).rstrip("/") == "https://guichet.example.fr"
    assert Settings.from_env({}).console_url is None


@pytest.mark.parametrize(
    ("variables", "said"),
    [
        (
            {"GUICHET_SMTP_USERNAME": "guichet", "GUICHET_SMTP_PASSWORD": "S3cret"},
            "GUICHET_SMTP_FROM is required with GUICHET_SMTP_HOST: the address the notices are "
            "sent from, e.g. guichet@example.fr",
        ),
        (
            {"GUICHET_SMTP_FROM": "g@example.fr", "GUICHET_SMTP_TLS": "ssl"},
            "GUICHET_SMTP_TLS: use none, starttls (the default, port 587) or tls (implicit TLS, "
            "which some mail servers call SSL, port 465) (read 'ssl')",
        ),
    ],
)
def test_smtp_settings_name_the_variable_to_fix_and_never_the_password(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variables: dict[str, str],
    said: str,
) -> None:
    """`guichet worker` without GUICHET_SMTP_FROM said « GUICHET_SMTP_SENDER: Field required »
    (no such variable) and printed every SMTP setting read, the password in clear; with
    GUICHET_SMTP_TLS=ssl it blamed GUICHET_SMTP_PORT."""
    for name, value in {"GUICHET_SMTP_HOST": "127.0.0.1", **variables}.items():
        monkeypatch.setenv(name, value)
    code, out, err = guichet(capsys, "worker")
    assert (code, out, err) == (2, "", f"guichet: {said}\n")
