"""Signed session cookies and CSRF tokens, with the standard library only.

The cookie holds ``{"sid", "user", "iat"}`` as base64 JSON plus an HMAC-SHA256 of it under
the console's secret: the server keeps no session table, and a changed cookie is refused.
``iat``, the moment it was issued (to the millisecond), is what ends a signed-in session
early: ``console.web.auth.caller`` refuses one issued before its account's
``sessions_valid_after`` (set at sign-out, password reset, role change, disabling).
Every visitor gets a session id (anonymous until sign-in, renewed at sign-in and sign-out);
the CSRF token of a session is ``HMAC(secret, "csrf:" + sid)``, put in every form and in the
``X-CSRF-Token`` header of the page script's requests. The cookie is HttpOnly, SameSite=Lax,
and Secure when the request came over HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
import time
from dataclasses import dataclass, field

COOKIE = "guichet_session"
MAX_AGE = 12 * 3600
"""A working day: after that the person signs in again."""


@dataclass
class Session:
    """One visitor's session; ``changed`` says the cookie must be written back."""

    sid: str
    user: str | None
    issued_at: float
    """Seconds since the epoch, to the millisecond: a sign-in right after a sign-out (the
    same second) must count, the sessions before it not."""
    changed: bool = field(default=False, compare=False)

    @classmethod
    def fresh(cls, user: str | None = None) -> Session:
        """A new session id (at sign-in, at sign-out, for a first visit)."""
        return cls(secrets.token_urlsafe(18), user, round(time.time(), 3), changed=True)


class SessionSigner:
    """Encodes and checks session cookies and CSRF tokens under one secret."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 32:
            raise ValueError("the console secret needs at least 32 bytes")
        self._secret = secret

    def dump(self, session: Session) -> str:
        """The cookie value."""
        payload = json.dumps(
            {"sid": session.sid, "user": session.user, "iat": session.issued_at},
            separators=(",", ":"),
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{body}.{self._sign(body.encode())}"

    def load(self, value: str | None, now: float | None = None) -> Session | None:
        """The session in a cookie, or None when absent, forged or expired."""
        if not value or "." not in value or len(value) > 1024:
            return None
        body, signature = value.rsplit(".", 1)
        if not _same(signature, self._sign(body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            # Whole seconds in the cookies of the release before: read alike.
            sid, user, issued = str(data["sid"]), data["user"], float(data["iat"])
        except (ValueError, KeyError, TypeError):
            return None
        if not math.isfinite(issued):
            return None
        if user is not None and not isinstance(user, str):
            return None
        if (now if now is not None else time.time()) - issued > MAX_AGE:
            return None
        return Session(sid, user, issued)

    def csrf_token(self, session: Session) -> str:
        """The token every form of this session must send back."""
        return self._sign(f"csrf:{session.sid}".encode())

    def csrf_ok(self, session: Session, token: str | None) -> bool:
        """True when ``token`` is this session's CSRF token."""
        return bool(token) and _same(str(token), self.csrf_token(session))

    def seal(self, data: bytes, purpose: str) -> str:
        """``data`` as text for an address, signed for ``purpose``."""
        body = base64.urlsafe_b64encode(data).decode().rstrip("=")
        return f"{body}.{self._sign(f'{purpose}:{body}'.encode())}"

    def unseal(self, value: str, purpose: str) -> bytes | None:
        """What ``seal`` sealed for ``purpose``, or None when ``value`` is not that."""
        body, _, signature = value.rpartition(".")
        if not _same(signature, self._sign(f"{purpose}:{body}".encode())):
            return None
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))

    def _sign(self, data: bytes) -> str:
        digest = hmac.new(self._secret, data, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _same(given: str, expected: str) -> bool:
    """``given == expected`` in constant time; False for any text that is not ASCII, which
    ``hmac.compare_digest`` refuses with a TypeError (an « é » typed in an address)."""
    return given.isascii() and hmac.compare_digest(given, expected)
