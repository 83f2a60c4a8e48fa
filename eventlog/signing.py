"""Ed25519 keys for signed checkpoints: read, generate, show the public half.

The private key comes from a file (``GUICHET_SIGNING_KEY_FILE``) or the environment
(``GUICHET_SIGNING_KEY``), as PEM (PKCS#8) or as the base64 of its 32 raw bytes. It is never
logged, printed or put in an error message: every message here names where the key was
looked for, never what it holds. The public key is shown as the base64 of its 32 raw bytes;
its *key id* is the first 16 hex digits of the SHA-256 of those bytes.

Beside the checkpoints they sign (``eventlog.checkpoints``): the workers' signer
(``activities.checkpointing``), the auditor and the console all read their keys here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE_VARIABLE = "GUICHET_SIGNING_KEY_FILE"
KEY_VARIABLE = "GUICHET_SIGNING_KEY"
PUBLIC_KEY_FILE_VARIABLE = "GUICHET_PUBLIC_KEY_FILE"
PUBLIC_KEY_VARIABLE = "GUICHET_PUBLIC_KEY"
RAW_KEY_BYTES = 32


class SigningKeyError(Exception):
    """A key could not be read or written; the message never contains key material."""


def _raw_base64(text: str) -> bytes | None:
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == RAW_KEY_BYTES else None


def parse_private_key(text: str | bytes, where: str) -> Ed25519PrivateKey:
    """A private key from PEM or base64 of 32 raw bytes; ``where`` names it in errors."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise SigningKeyError(f"{where} is not a readable unencrypted PEM key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"{where} holds a key that is not Ed25519")
        return key
    raw = _raw_base64(data.decode("ascii", "replace"))
    if raw is None:
        raise SigningKeyError(
            f"{where} is neither a PEM Ed25519 key nor the base64 of 32 raw key bytes"
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def parse_public_key(text: str | bytes, where: str) -> Ed25519PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo) or base64 of its 32 raw bytes."""
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm):
            raise SigningKeyError(f"{where} is not a readable PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{where} holds a public key that is not Ed25519")
        return key
    raw = _raw_base64(data.decode("ascii", "replace"))
    if raw is None:
        raise SigningKeyError(
            f"{where} is neither a PEM Ed25519 public key nor the base64 of 32 raw bytes"
        )
    return Ed25519PublicKey.from_public_bytes(raw)


def read_key_file(path: Path) -> Ed25519PrivateKey:
    """The private key held by ``path``."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SigningKeyError(
            f"cannot read the signing key file {path}: {error.strerror}"
        ) from None
    return parse_private_key(data, f"the signing key file {path}")


def signing_key_from_env(env: Mapping[str, str] | None = None) -> Ed25519PrivateKey | None:
    """The configured key: ``GUICHET_SIGNING_KEY_FILE`` first, then ``GUICHET_SIGNING_KEY``."""
    env = os.environ if env is None else env
    if path := env.get(KEY_FILE_VARIABLE):
        return read_key_file(Path(path))
    if text := env.get(KEY_VARIABLE):
        return parse_private_key(text, KEY_VARIABLE)
    return None


def trusted_key_from_env(env: Mapping[str, str] | None = None) -> Ed25519PublicKey | None:
    """The key checkpoints must be signed with: ``GUICHET_PUBLIC_KEY_FILE``, then
    ``GUICHET_PUBLIC_KEY`` (what auditors and the console hold: no private key needed), else
    the public half of the signing key. None when none is configured."""
    env = os.environ if env is None else env
    if path := env.get(PUBLIC_KEY_FILE_VARIABLE):
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise SigningKeyError(
                f"cannot read the public key file {path}: {error.strerror}"
            ) from None
        return parse_public_key(data, f"the public key file {path}")
    if text := env.get(PUBLIC_KEY_VARIABLE):
        return parse_public_key(text, PUBLIC_KEY_VARIABLE)
    private = signing_key_from_env(env)
    return private.public_key() if private is not None else None


def signing_key_configured(env: Mapping[str, str] | None = None) -> bool:
    """True when a key file or key variable is set (whether it is valid is not checked)."""
    env = os.environ if env is None else env
    return bool(env.get(KEY_FILE_VARIABLE) or env.get(KEY_VARIABLE))


def write_new_key(path: Path, *, overwrite: bool = False) -> Ed25519PublicKey:
    """Generate a key into ``path`` (PEM, mode 0600, never over an existing file unless asked)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    try:
        descriptor = os.open(path, flags, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} already exists: choose another file") from None
    except OSError as error:
        raise SigningKeyError(f"cannot create {path}: {error.strerror}") from None
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)  # also when an existing file was overwritten
        handle.write(pem)
    return key.public_key()


def public_key_text(key: Ed25519PublicKey) -> str:
    """The base64 of the public key's 32 raw bytes."""
    return base64.b64encode(_raw(key)).decode("ascii")


def public_key_pem(key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo)."""
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: 16 hex digits of its SHA-256."""
    return hashlib.sha256(_raw(key)).hexdigest()[:16]


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
