"""Installer bundles: names, checksums, and a streaming upload (600 MB+ never sits in memory).

The upload handler writes each multipart chunk straight to a file under HARBOROPS_INSTALLER_DIR
and hashes it on the way (SHA-256 and MD5), so a finished upload needs no second read.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import transaction

from harborops.audit.services import record
from harborops.core.actor import Actor
from harborops.installs.models import Installer

NAME_PATTERN = re.compile(
    r"^harbor-(?P<kind>offline|online)-installer-v(?P<version>\d+\.\d+\.\d+(?:-rc\d+)?)(?:-(?P<arch>amd64|arm64))?\.tgz$")
UPLOAD_FIELD = "installer"


@dataclass(frozen=True)
class InstallerName:
    kind: str
    version: str
    arch: str


def parse_name(filename: str) -> InstallerName:
    match = NAME_PATTERN.match(filename)
    if not match:
        raise ValidationError({"installer": f"{filename!r} is not a Harbor installer name "
                                            "(harbor-offline-installer-vX.Y.Z[-amd64|-arm64].tgz)"})
    return InstallerName(match["kind"], match["version"], match["arch"] or "")


def parse_checksum(text: str, filename: str = "") -> tuple[str, str]:
    """('sha256' | 'md5', hex) from a bare digest, 'sha256:…', or the release's md5sum asset lines."""
    text = text.strip()
    if not text:
        return "", ""
    if text.lower().startswith(("sha256:", "md5:")):
        algo, _, value = text.partition(":")
        return algo.lower(), value.strip().lower()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and filename and parts[-1].lstrip("*") == filename:
            text = parts[0]
            break
    else:
        text = text.split()[0]
    text = text.lower()
    if re.fullmatch(r"[0-9a-f]{64}", text):
        return "sha256", text
    if re.fullmatch(r"[0-9a-f]{32}", text):
        return "md5", text
    raise ValidationError({"checksum": "give a SHA-256 or MD5 hex digest, or the release's md5sum file"})


def store_dir() -> Path:
    path = Path(settings.INSTALLER_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


class StoredUpload(UploadedFile):
    """What the streaming handler hands over: already on disk, already hashed."""

    def __init__(self, path: Path, name: str, size: int, sha256: str, md5: str) -> None:
        super().__init__(file=None, name=name, content_type="application/gzip", size=size)
        self.path, self.sha256, self.md5 = path, sha256, md5

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


class InstallerUploadHandler(FileUploadHandler):
    """Stream the ``installer`` file field to disk in chunks, hashing as it goes."""

    chunk_size = 1024 * 1024

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self._handle: Any = None
        self._path: Path | None = None

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != UPLOAD_FIELD:
            return
        self._path = store_dir() / f".incoming-{uuid.uuid4().hex}"
        self._handle = self._path.open("wb")
        self._sha256, self._md5 = hashlib.sha256(), hashlib.md5()  # noqa: S324 - Harbor publishes md5sum

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._handle is None:
            return raw_data
        self._handle.write(raw_data)
        self._sha256.update(raw_data)
        self._md5.update(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self._handle is None or self._path is None:
            return None
        self._handle.close()
        self._handle = None
        upload = StoredUpload(self._path, os.path.basename(self.file_name or ""), file_size,
                              self._sha256.hexdigest(), self._md5.hexdigest())
        self._path = None
        return upload

    def upload_interrupted(self) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._path is not None:
            self._path.unlink(missing_ok=True)


def _audit(installer: Installer) -> dict[str, Any]:
    return {"filename": installer.filename, "version": installer.version, "source": installer.source,
            "url": installer.url, "size": installer.size, "sha256": installer.sha256, "md5": installer.md5}


def save_upload(upload: StoredUpload, *, actor: Actor, checksum: str = "") -> Installer:
    """Check the name and the operator's checksum, keep the file, record it. The same bytes
    uploaded twice are stored once."""
    try:
        name = parse_name(upload.name or "")
        algo, expected = parse_checksum(checksum, upload.name or "")
        actual = upload.sha256 if algo == "sha256" else upload.md5
        if expected and actual != expected:
            raise ValidationError({"checksum": f"checksum mismatch: expected {algo} {expected}, the upload has "
                                               f"{actual}; the file was discarded"})
    except ValidationError:
        upload.discard()
        raise
    existing = Installer.objects.filter(sha256=upload.sha256, source=Installer.Source.UPLOAD).first()
    if existing is not None and Path(existing.path).exists():
        upload.discard()
        return existing
    final = store_dir() / f"{upload.sha256[:16]}-{upload.name}"
    os.replace(upload.path, final)
    with transaction.atomic():
        installer = Installer.objects.create(
            filename=upload.name or "", version=name.version, kind=name.kind, arch=name.arch, path=str(final),
            size=upload.size, sha256=upload.sha256, md5=upload.md5, created_by=actor.name)
        record(actor=actor, action="installs.installer.upload", obj=installer, before=None, after=_audit(installer))
    return installer


def add_url(*, actor: Actor, url: str, checksum: str) -> Installer:
    """An installer the host fetches itself (air-gapped mirrors); a checksum is required."""
    filename = url.rstrip("/").rsplit("/", 1)[-1]
    name = parse_name(filename)
    algo, expected = parse_checksum(checksum, filename)
    if not expected:
        raise ValidationError({"checksum": "a fetched installer needs its SHA-256 or the release's md5sum"})
    with transaction.atomic():
        installer = Installer.objects.create(
            filename=filename, version=name.version, kind=name.kind, arch=name.arch, source=Installer.Source.URL,
            url=url, sha256=expected if algo == "sha256" else "", md5=expected if algo == "md5" else "",
            created_by=actor.name)
        record(actor=actor, action="installs.installer.add_url", obj=installer, before=None, after=_audit(installer))
    return installer
