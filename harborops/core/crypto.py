"""Encryption of secrets at rest with cryptography's MultiFernet.

Keys come from ``HARBOROPS_SECRET_KEYS`` (comma-separated; the first encrypts, all decrypt).
Without it, the embedded default keeps its keys in ``DATA_DIR/secret-keys`` (mode 0600, created
on first use). Rotation: put a new key first, keep the old ones, run ``manage.py
rotate_secret_keys``, then drop the old keys.
"""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from harborops.core import redaction


class SecretKeyError(Exception):
    pass


def _read_or_create_key_file(path: Path) -> list[str]:
    if path.exists():
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode()
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_or_create_key_file(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return [key]


_lock = threading.Lock()


@lru_cache(maxsize=1)
def _keyring(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError) as exc:
        raise SecretKeyError(
            "HARBOROPS_SECRET_KEYS must hold Fernet keys (32 url-safe base64 bytes); "
            "generate one with: python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'"
        ) from exc


def configured_keys() -> tuple[str, ...]:
    keys = list(settings.SECRET_KEYS)
    if not keys:
        with _lock:
            keys = _read_or_create_key_file(Path(settings.SECRET_KEY_FILE))
    return tuple(keys)


def keyring() -> MultiFernet:
    return _keyring(configured_keys())


def encrypt(plaintext: str) -> str:
    return keyring().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        value = keyring().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretKeyError(
            "a stored secret cannot be decrypted with the configured keys "
            "(was a key removed from HARBOROPS_SECRET_KEYS before rotate_secret_keys ran?)"
        ) from None
    # Every secret this process has seen is redacted from its logs and job output.
    redaction.remember(value)
    return value


def rotate(token: str) -> str:
    return keyring().rotate(token.encode()).decode()
