"""Payload encryption: what Temporal stores of a file (commune, title, e-mail, plan) is sealed.

Temporal keeps every workflow input, update, query answer and activity payload in its own
database and shows them in its web UI. With a key set (``GUICHET_PAYLOAD_KEY``: 32 bytes in
base64, or ``GUICHET_PAYLOAD_KEY_FILE`` naming a file that holds it), every payload is sealed
with AES-256-GCM before it leaves the process, and failure messages are encoded too. Without
a key, payloads are plain JSON, as in development.

Every process that reads or writes payloads must use the same converter: the worker, the CLI,
the web console and the auditor's replay (``data_converter_from_env``). Payloads written
before encryption was turned on stay readable: the codec only opens payloads it sealed.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32


class PayloadKeyError(ValueError):
    """The configured key is unusable; the message says what to fix."""


class AesGcmCodec(PayloadCodec):
    """Seals each payload (metadata and data) with AES-256-GCM and a fresh random nonce."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise PayloadKeyError(f"the payload key must be {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        # Names the key without revealing it, so a payload sealed with another key is reported
        # as such rather than as corrupt.
        self.key_id = hashlib.sha256(b"guichet-payload-key:" + key).hexdigest()[:16].encode()

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal every payload."""
        return [self._seal(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open the payloads this codec sealed; leave plain (older) payloads as they are."""
        return [self._open(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _seal(self, payload: Payload) -> Payload:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, payload.SerializeToString(), self.key_id)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: self.key_id}, data=nonce + sealed)

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID, b"")
        if key_id != self.key_id:
            raise PayloadKeyError(
                f"payload sealed with key {key_id.decode(errors='replace')}, "
                f"this process has key {self.key_id.decode()}: configure the same key"
            )
        nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
        try:
            return Payload.FromString(self._aead.decrypt(nonce, sealed, key_id))
        except InvalidTag:
            raise PayloadKeyError("an encrypted payload was altered or truncated") from None


def parse_key(text: str) -> bytes:
    """A base64 key of 32 bytes (``openssl rand -base64 32``)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise PayloadKeyError(
            "the payload key is not valid base64: generate one with `openssl rand -base64 32`"
        ) from None
    if len(key) != KEY_BYTES:
        raise PayloadKeyError(
            f"the payload key decodes to {len(key)} bytes, it must be {KEY_BYTES}: "
            "generate one with `openssl rand -base64 32`"
        )
    return key


def key_from_env(env: Mapping[str, str] | None = None) -> bytes | None:
    """``GUICHET_PAYLOAD_KEY``, else the file named by ``GUICHET_PAYLOAD_KEY_FILE``, else None."""
    env = os.environ if env is None else env
    if text := env.get("GUICHET_PAYLOAD_KEY"):
        return parse_key(text)
    if name := env.get("GUICHET_PAYLOAD_KEY_FILE"):
        try:
            return parse_key(Path(name).read_text(encoding="ascii"))
        except (OSError, UnicodeDecodeError) as error:
            raise PayloadKeyError(f"cannot read the payload key file {name}: {error}") from None
    return None


def data_converter(key: bytes | None) -> DataConverter:
    """The pydantic converter, sealed with ``key`` when there is one."""
    if key is None:
        return pydantic_data_converter
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=AesGcmCodec(key),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def data_converter_from_env(env: Mapping[str, str] | None = None) -> DataConverter:
    """The converter every Guichet process uses, as its environment configures it."""
    return data_converter(key_from_env(env))
