"""The process's settings, read once from its environment; a value that cannot be used is a
``SettingsError`` naming the variable to fix."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import pydantic
import sqlalchemy as sa
from pydantic_core import ErrorDetails
from temporalio.converter import DataConverter

from activities.digest import DEFAULT_STALE_DAYS
from activities.directory import Directory, DirectoryError, load_directory
from activities.mail import DEFAULT_PORTS, Mailer, SmtpMailer, SmtpSettings
from domain.registry import CommuneRegistry, RegistryError, load_registry
from eventlog.edge import masked
from eventlog.signing import KEY_FILE_VARIABLE, SigningKeyError, signing_key_from_env
from workflows.encryption import data_converter, key_from_env
from workflows.messages import DEFAULT_TASK_QUEUE

DEFAULT_STATE_DIR = Path(".guichet")
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class SettingsError(ValueError):
    """An environment variable's value cannot be used; names the variable and why."""


SETTING_VARIABLES = {
    "temporal_address": "TEMPORAL_ADDRESS",
    "namespace": "TEMPORAL_NAMESPACE",
    "task_queue": "GUICHET_TASK_QUEUE",
    "database_url": "GUICHET_DATABASE_URL",
    "state_dir": "GUICHET_STATE_DIR",
    "log_format": "GUICHET_LOG_FORMAT",
    "log_level": "GUICHET_LOG_LEVEL",
    "smtp": "GUICHET_SMTP_*",
    "directory_file": "GUICHET_DIRECTORY_FILE",
    "digest_stale_days": "GUICHET_DIGEST_STALE_DAYS",
    "conventions_file": "GUICHET_CONVENTIONS_FILE",
    "console_url": "GUICHET_CONSOLE_URL",
}
"""Each setting's environment variable, for the sentence that says which one is wrong."""


class Settings(pydantic.BaseModel):
    """Everything the process reads from its environment, read once at start."""

    model_config = pydantic.ConfigDict(frozen=True)

    temporal_address: str | None = None
    """None: ``guichet dev`` starts an embedded dev server."""
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE
    database_url: str | None = None
    """None: a SQLite event log in the state folder."""
    state_dir: Path = DEFAULT_STATE_DIR
    log_format: Literal["console", "json"] = "console"
    log_level: LogLevel = "INFO"
    smtp: SmtpSettings | None = None
    """None: notices are delivered as log lines (no ``GUICHET_SMTP_HOST``)."""
    directory_file: Path | None = None
    """TOML or JSON mapping person and pool ids to e-mail addresses."""
    digest_stale_days: int = pydantic.Field(default=DEFAULT_STALE_DAYS, ge=1)
    conventions_file: Path | None = None
    """CSV of signed conventions (insee,kind,signed_on): the communes' dated facts."""
    payload_key: pydantic.SecretBytes | None = None
    """AES-256 key sealing Temporal payloads (``GUICHET_PAYLOAD_KEY`` or ``_KEY_FILE``)."""
    console_url: pydantic.HttpUrl | None = None
    """The web console's public address (``GUICHET_CONSOLE_URL``): mails then link to the
    file's page."""

    @pydantic.field_validator("log_level", mode="before")
    @classmethod
    def _level_in_capitals(cls, value: object) -> object:
        """``debug`` is DEBUG, as logging reads it; ``VERBOSE`` is refused, not taken as INFO."""
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``TEMPORAL_ADDRESS``, ``TEMPORAL_NAMESPACE``, ``GUICHET_*`` variables."""
        env = os.environ if env is None else env
        # An empty value counts as unset, as a blank line in a ConfigMap or a `NAME=` in a
        # compose file means: an empty namespace or state folder is never what was meant.
        values: dict[str, object] = {
            "temporal_address": env.get("TEMPORAL_ADDRESS") or None,
            "namespace": env.get("TEMPORAL_NAMESPACE") or "default",
            "task_queue": env.get("GUICHET_TASK_QUEUE") or DEFAULT_TASK_QUEUE,
            "database_url": _database_url(env.get("GUICHET_DATABASE_URL") or None),
            "state_dir": Path(env.get("GUICHET_STATE_DIR") or DEFAULT_STATE_DIR),
            "log_format": env.get("GUICHET_LOG_FORMAT") or "console",
            "log_level": env.get("GUICHET_LOG_LEVEL") or "INFO",
            "smtp": _smtp_settings(
                host=env.get("GUICHET_SMTP_HOST"),
                port=env.get("GUICHET_SMTP_PORT"),
                sender=env.get("GUICHET_SMTP_FROM"),
                sender_name=env.get("GUICHET_SMTP_FROM_NAME"),
                tls=env.get("GUICHET_SMTP_TLS") or "starttls",
                username=env.get("GUICHET_SMTP_USERNAME"),
                password=env.get("GUICHET_SMTP_PASSWORD"),
            ),
            "directory_file": env.get("GUICHET_DIRECTORY_FILE") or None,
            "digest_stale_days": env.get("GUICHET_DIGEST_STALE_DAYS") or DEFAULT_STALE_DAYS,
            "conventions_file": env.get("GUICHET_CONVENTIONS_FILE") or None,
            "payload_key": key_from_env(env),
            "console_url": env.get("GUICHET_CONSOLE_URL") or None,
        }
        try:
            return cls.model_validate(values)
        except pydantic.ValidationError as error:
            raise SettingsError(_sentence(error.errors()[0])) from None

    def mailer(self) -> Mailer | None:
        """SMTP delivery when configured, else None (notices become log lines)."""
        return SmtpMailer(self.smtp) if self.smtp else None

    def directory(self) -> Directory | None:
        """The id → e-mail directory named by ``GUICHET_DIRECTORY_FILE``, if any; a file that
        cannot be read or holds no such table is a ``SettingsError`` naming it."""
        if self.directory_file is None:
            return None
        try:
            return load_directory(self.directory_file)
        except DirectoryError as error:
            raise SettingsError(f"GUICHET_DIRECTORY_FILE: {error}") from None

    def registry(self) -> CommuneRegistry:
        """The communes, with the signed conventions of ``GUICHET_CONVENTIONS_FILE``."""
        return registry_with_conventions(self.conventions_file)

    @property
    def event_log_url(self) -> str:
        """The event log's database URL (SQLite in the state folder by default)."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.state_dir / 'eventlog.sqlite3').resolve()}"

    def data_converter(self) -> DataConverter:
        """The pydantic converter, with payloads sealed when a payload key is set."""
        key = self.payload_key.get_secret_value() if self.payload_key else None
        return data_converter(key)


def registry_with_conventions(conventions_file: Path | None) -> CommuneRegistry:
    """The communes with the conventions of ``conventions_file``, or a ``SettingsError``
    naming GUICHET_CONVENTIONS_FILE and the path: a FileNotFoundError reached the operator
    as « unexpected error »."""
    try:
        return load_registry(conventions_path=conventions_file)
    except FileNotFoundError:
        raise SettingsError(
            f"GUICHET_CONVENTIONS_FILE: no file at {conventions_file}: check the path"
        ) from None
    except OSError as error:
        raise SettingsError(
            f"GUICHET_CONVENTIONS_FILE: {conventions_file} cannot be read "
            f"({error.strerror or error})"
        ) from None
    except RegistryError as error:
        raise SettingsError(f"GUICHET_CONVENTIONS_FILE: {conventions_file}: {error}") from None
    except UnicodeDecodeError:  # a ValueError, not an OSError: it was an « unexpected error »
        raise SettingsError(
            f"GUICHET_CONVENTIONS_FILE: {conventions_file} is not UTF-8 text: save it as "
            '"CSV UTF-8" (insee,kind,signed_on)'
        ) from None


def _sentence(problem: ErrorDetails) -> str:
    """The variable to fix and why, from pydantic's first error; the value read is said back
    unless it may hold a secret (a password, or the SMTP settings as a whole)."""
    field, *inner = [str(part) for part in problem["loc"]] or [""]
    variable = SETTING_VARIABLES.get(field, field)
    if field == "smtp" and inner:
        variable = SMTP_VARIABLES.get(inner[0], f"GUICHET_SMTP_{inner[0].upper()}")
    if problem["type"] == "missing" and variable == "GUICHET_SMTP_FROM":
        return (
            "GUICHET_SMTP_FROM is required with GUICHET_SMTP_HOST: the address the notices are "
            "sent from, e.g. guichet@example.fr"
        )
    if problem["type"] == "missing":
        return f"{variable} is required"
    value = problem["input"]
    if "password" in inner or isinstance(value, Mapping):
        return f"{variable}: {problem['msg']}"
    return f"{variable}: {problem['msg']} (read {value!r})"


DATABASE_DRIVERS = ("postgresql+asyncpg", "sqlite+aiosqlite")
"""The databases the event log runs on, each with the asynchronous driver the image has."""


def _database_url(url: str | None) -> str | None:
    """``GUICHET_DATABASE_URL`` when the event log can open it; a ``SettingsError`` saying the
    form to write otherwise. Said back with its password masked.

    Text that is no URL, or ``postgresql://`` without ``+asyncpg`` (which SQLAlchemy gives to
    psycopg, not installed), reached the operator as « unexpected error (ArgumentError …) »
    or « (ModuleNotFoundError …) »."""
    if url is None:
        return None
    try:
        driver = sa.make_url(url).drivername
    except sa.exc.ArgumentError:
        driver = None
    if driver not in DATABASE_DRIVERS:
        raise SettingsError(
            "GUICHET_DATABASE_URL: write postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE "
            f"(or sqlite+aiosqlite:///PATH for a file) (read {masked(url)!r})"
        )
    return url


SMTP_VARIABLES = {"sender": "GUICHET_SMTP_FROM", "sender_name": "GUICHET_SMTP_FROM_NAME"}
"""The SMTP fields whose variable is not ``GUICHET_SMTP_<FIELD>``."""


def _smtp_settings(
    *, host: str | None, port: str | None, tls: str, **rest: str | None
) -> dict[str, object] | None:
    """``GUICHET_SMTP_*`` (an empty value counts as unset); the port defaults to the TLS
    mode's (25, 587 or 465). None without a host: notices are then logged.

    The TLS mode is checked here, in words: with an unknown one, the port had no default and
    pydantic's sentence blamed GUICHET_SMTP_PORT."""
    if not host:
        return None
    if tls not in DEFAULT_PORTS:
        raise SettingsError(
            f"GUICHET_SMTP_TLS: use none, starttls (the default, port 587) or tls (implicit "
            f"TLS, which some mail servers call SSL, port 465) (read {tls!r})"
        )
    given = {key: value for key, value in rest.items() if value}
    return {"host": host, "port": port or DEFAULT_PORTS[tls], "tls": tls, **given}


def check_signing_key(env: Mapping[str, str] | None = None) -> None:
    """A ``SettingsError`` when a signing key is configured but cannot be used (a file path
    mistyped, a Secret holding something else). The activity reads the key again at each
    checkpoint, so that a rotated file is picked up: checked only there, such a worker
    started as if all were well and failed every scheduled checkpoint, hours later."""
    env = os.environ if env is None else env
    try:
        signing_key_from_env(env)
    except SigningKeyError as error:  # names where the key was looked for, never the key
        variable = KEY_FILE_VARIABLE if env.get(KEY_FILE_VARIABLE) else None
        raise SettingsError(f"{variable}: {error}" if variable else str(error)) from None
