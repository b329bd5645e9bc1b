"""Channel credentials encrypted at rest (Fernet), with a key derived from settings.

`credentials_key` may be any passphrase; it is stretched to a Fernet key with HKDF. When unset, a random
key is created once in `var_dir/credentials.key` (mode 0600), so the embedded install works out of the box
and a stolen database alone reveals no tokens.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from teleplex.core.settings import Settings

_INFO = b"teleplex channel credentials v1"


class CredentialsUnreadable(Exception):
    """The stored credentials do not open with this key: the key changed or the row was tampered with."""


def _derive(secret: bytes) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"teleplex", info=_INFO).derive(secret)
    return base64.urlsafe_b64encode(key)


def _key_file_secret(var_dir: Path) -> bytes:
    path = var_dir / "credentials.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_urlsafe(32).encode())
    return path.read_bytes().strip()


class CredentialBox:
    """Seals and opens the credentials dict of a channel."""

    def __init__(self, secret: bytes) -> None:
        self._fernet = Fernet(_derive(secret))

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialBox:
        if settings.credentials_key is not None and settings.credentials_key.get_secret_value():
            return cls(settings.credentials_key.get_secret_value().encode())
        return cls(_key_file_secret(settings.var_dir))

    def seal(self, credentials: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except (InvalidToken, ValueError):
            raise CredentialsUnreadable("channel credentials cannot be decrypted with the configured key") from None
