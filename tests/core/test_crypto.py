from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from harborops.audit.models import ActionLogEntry
from harborops.core import crypto
from harborops.core.crypto import SecretKeyError
from tests.testapp.models import Vault

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def raw_secret(vault: Vault) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM testapp_vault WHERE id = %s", [vault.pk])
        return str(cursor.fetchone()[0])


def test_an_encrypted_field_stores_ciphertext_and_reads_plaintext():
    vault = Vault.objects.create(name="eu-1", secret="Harbor12345")
    stored = raw_secret(vault)
    assert "Harbor12345" not in stored and stored.startswith("gAAAA")
    assert Vault.objects.get(pk=vault.pk).secret == "Harbor12345"
    assert Vault.objects.create(name="empty", secret="").secret == ""


def test_the_embedded_default_creates_a_0600_key_file(settings, tmp_path):
    settings.SECRET_KEYS = []
    settings.SECRET_KEY_FILE = tmp_path / "keys"
    token = crypto.encrypt("x")
    assert (tmp_path / "keys").stat().st_mode & 0o777 == 0o600
    assert crypto.decrypt(token) == "x"


def test_rotation_re_encrypts_with_the_new_first_key(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.SECRET_KEYS = [old]
    vault = Vault.objects.create(name="eu-1", secret="robot-secret-1")
    before = raw_secret(vault)
    settings.SECRET_KEYS = [new, old]
    call_command("rotate_secret_keys")
    after = raw_secret(vault)
    assert after != before
    settings.SECRET_KEYS = [new]  # the old key can go now
    assert Vault.objects.get(pk=vault.pk).secret == "robot-secret-1"
    assert ActionLogEntry.objects.filter(action="secrets.rotate").exists()


def test_a_missing_key_is_a_clear_error_not_garbage(settings):
    settings.SECRET_KEYS = [Fernet.generate_key().decode()]
    vault = Vault.objects.create(name="eu-1", secret="s")
    settings.SECRET_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(SecretKeyError, match="cannot be decrypted with the configured keys"):
        Vault.objects.get(pk=vault.pk)
