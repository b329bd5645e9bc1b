from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from teleplex.core.settings import Settings
from teleplex.messaging.crypto import CredentialBox, CredentialsUnreadable


def test_sealed_credentials_open_with_the_same_key_only() -> None:
    box = CredentialBox(b"key one")
    sealed = box.seal({"bot_token": "123:abc"})
    assert "123:abc" not in sealed
    assert CredentialBox(b"key one").open(sealed) == {"bot_token": "123:abc"}
    with pytest.raises(CredentialsUnreadable):
        CredentialBox(b"key two").open(sealed)
    with pytest.raises(CredentialsUnreadable):
        box.open(sealed[:-4] + "AAAA")


def test_without_a_configured_key_one_is_made_once_in_var_dir(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:///x.db", var_dir=tmp_path)
    sealed = CredentialBox.from_settings(settings).seal({"a": "b"})
    key_file = tmp_path / "credentials.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert CredentialBox.from_settings(settings).open(sealed) == {"a": "b"}


def test_a_configured_key_is_used(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:///x.db", var_dir=tmp_path, credentials_key=SecretStr("passphrase"))
    sealed = CredentialBox.from_settings(settings).seal({"a": "b"})
    assert not (tmp_path / "credentials.key").exists()
    assert CredentialBox(b"passphrase").open(sealed) == {"a": "b"}
