"""The session cookie's issue time, which ends a signed-in session early: kept to the
millisecond, read from the cookies of the release before, compared with the account's
``sessions_valid_after``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from console.web.accounts import Account
from console.web.sessions import Session, SessionSigner

SIGNER = SessionSigner(b"s" * 32)


def test_the_issue_time_is_kept_to_the_millisecond() -> None:
    """A sign-in in the same second as a sign-out must count, the session before it not."""
    session = Session("sid", "alice", 1_765_000_000.123)
    loaded = SIGNER.load(SIGNER.dump(session), now=1_765_000_001)
    assert loaded is not None and loaded.issued_at == 1_765_000_000.123


def test_a_cookie_of_the_release_before_is_still_read() -> None:
    """Its ``iat`` was whole seconds: the people signed in keep their session."""
    payload = json.dumps({"sid": "sid", "user": "alice", "iat": 1_765_000_000}).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    cookie = f"{body}.{SIGNER._sign(body.encode())}"
    assert SIGNER.load(cookie, now=1_765_000_001) == Session("sid", "alice", 1_765_000_000)


def test_sessions_issued_before_the_account_ended_them_no_longer_count() -> None:
    """Those issued before ``sessions_valid_after`` are over; those after, and every one of an
    account that never ended any, count."""
    ended = datetime(2026, 12, 7, 9, 0, 0, 500_000, tzinfo=UTC)
    account = Account("alice", "caseworker", sessions_valid_after=ended)
    assert not account.session_valid(ended.timestamp() - 0.001)
    assert account.session_valid(ended.timestamp() + 0.001)
    assert Account("alice", "caseworker").session_valid(0)
    assert not account.session_valid((ended - timedelta(hours=1)).timestamp())
