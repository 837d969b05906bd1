"""Encryption at rest: AES-256-GCM for stored texts, HMAC-SHA256 for lookups, from one secret."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from datetime import UTC, datetime
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION: Final = "v1"
SECRET_BYTES: Final = 32
NONCE_BYTES: Final = 12
# "v1." + 8 hex of the key id + "." + urlsafe base64 of nonce, ciphertext and tag. Plaintext
# answers are JSON and suggestions free text: neither has this exact shape.
TOKEN_PATTERN: Final = re.compile(r"v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+={0,2}")
# HKDF "info" labels: one master secret, independent keys per use.
_ENCRYPTION_INFO: Final = b"doorbraakbot v1 aes-256-gcm"
_HASH_INFO: Final = b"doorbraakbot v1 hmac-sha256"
_KEY_ID_INFO: Final = b"doorbraakbot v1 key id"


class InvalidSecret(ValueError):
    """The secret is not 32 bytes in (urlsafe) base64."""


class WrongKey(Exception):
    """The data was encrypted under another key than this one."""


class TamperedData(Exception):
    """A stored value is not an intact ciphertext of this key and column: changed or moved."""


def is_token(text: str) -> bool:
    """Whether `text` has the shape of an encrypted value (as opposed to plaintext)."""
    return TOKEN_PATTERN.fullmatch(text) is not None


class Keyring:
    """The application key: encrypts and decrypts column values, and hashes lookup keys."""

    __slots__ = ("_aead", "_hash_key", "_key_id")

    def __init__(self, master: bytes) -> None:
        if len(master) != SECRET_BYTES:
            raise InvalidSecret(f"the secret must be {SECRET_BYTES} bytes, not {len(master)}")
        self._aead = AESGCM(_derive(master, _ENCRYPTION_INFO))
        self._hash_key = _derive(master, _HASH_INFO)
        self._key_id = hmac.new(self._hash_key, _KEY_ID_INFO, hashlib.sha256).hexdigest()[:8]

    @staticmethod
    def generate_secret() -> str:
        """A new master secret: urlsafe base64 of 32 random bytes."""
        return base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")

    @classmethod
    def from_secret(cls, secret: str) -> Keyring:
        """The keyring of a secret made by `generate_secret` (padding `=` may be left off)."""
        text = secret.strip()
        text += "=" * (-len(text) % 4)
        try:
            master = base64.b64decode(text, altchars=b"-_", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidSecret(
                "the secret is not valid base64; make one with `doorbraakbot genkey`"
            ) from exc
        if len(master) != SECRET_BYTES:
            raise InvalidSecret(
                f"the secret decodes to {len(master)} bytes instead of {SECRET_BYTES};"
                " make one with `doorbraakbot genkey`"
            )
        return cls(master)

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the key: tells a wrong key from damaged data."""
        return self._key_id

    def __repr__(self) -> str:
        return f"Keyring(key_id={self._key_id!r})"

    def hash(self, text: str, *, purpose: str) -> str:
        """Hex HMAC-SHA256 of `purpose` NUL `text`: a deterministic key for lookups."""
        if "\0" in purpose:
            raise ValueError("purpose must not contain NUL")
        message = f"{purpose}\0{text}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def encrypt(self, plaintext: str, *, context: str, row: str | None = None) -> str:
        """AES-256-GCM with a random nonce; `context` (the column) and `row` (the row's
        identity, see `row_identity`) are authenticated with it, so the value only decrypts
        in that column of that row."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), _associated(context, row))
        payload = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{VERSION}.{self._key_id}.{payload}"

    def decrypt(self, token: str, *, context: str, row: str | None = None) -> str:
        """The plaintext of `token`, or WrongKey / TamperedData; never anything else."""
        if not is_token(token):
            raise TamperedData(f"{context}: the stored value is not an encrypted value")
        _, key_id, payload = token.split(".", 2)
        if key_id != self._key_id:
            raise WrongKey(
                f"{context}: encrypted under key {key_id}, but the configured key is"
                f" {self._key_id}"
            )
        try:
            raw = base64.urlsafe_b64decode(payload)
        except (binascii.Error, ValueError) as exc:
            raise TamperedData(f"{context}: the encrypted value is damaged") from exc
        if len(raw) < NONCE_BYTES + 16:
            raise TamperedData(f"{context}: the encrypted value is truncated")
        try:
            plain = self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(context, row)
            )
        except InvalidTag as exc:
            # The row's identity stays out of the message: it may be a keyed hash of an id.
            raise TamperedData(
                f"{context}: the encrypted value was changed or belongs to another column or row"
            ) from exc
        return plain.decode("utf-8")


def row_identity(*values: object) -> str:
    """The canonical text of the values that name a row, for `row=`: the same on every
    backend, whether a value comes from the application or is read back from the database."""
    parts = []
    for value in values:
        if isinstance(value, datetime):
            # SQLite reads timestamps back naive; they are stored as UTC (models.UTCDateTime).
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            parts.append(aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"))
        elif value is None or isinstance(value, int | str):
            parts.append("" if value is None else str(value))
        else:
            raise TypeError(f"a row identity cannot hold a {type(value).__name__}")
    return "\0".join(parts)


def _associated(context: str, row: str | None) -> bytes:
    # Columns' contexts hold no NUL, so "context NUL row" cannot be read two ways.
    return context.encode("utf-8") if row is None else f"{context}\0{row}".encode()


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)
