""""Trust this CA": find the certificate that would make a failed TLS handshake succeed.

After a verified handshake failed, the operator is shown what the server presented; when the
server's certificate is self-signed, or Harbor offers its CA at ``/api/v2.0/systeminfo/getcert``,
that certificate is proposed. It is proposed only if a *verified* handshake (hostname included)
succeeds with it, and it is stored only when the operator says so (trust on first use, shown
with its SHA-256 fingerprint)."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from harborops.harbor.http import presented_certificate, unverified_context

GETCERT = "/api/v2.0/systeminfo/getcert"


@dataclass(frozen=True)
class TrustCandidate:
    pem: str
    subject: str
    issuer: str
    not_after: str
    sha256: str
    source: str


def fingerprint(cert: x509.Certificate) -> str:
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


def _harbor_ca(base_url: str, timeout: float) -> list[x509.Certificate]:
    """Harbor's own CA download, read over an unverified connection: it is only a candidate,
    checked by a verified handshake before anyone is offered it."""
    try:
        resp = httpx.get(base_url + GETCERT, verify=unverified_context(), timeout=timeout, follow_redirects=False)
    except httpx.HTTPError:
        return []
    if resp.status_code != 200:
        return []
    try:
        return x509.load_pem_x509_certificates(resp.content)
    except ValueError:
        return []


def handshake_verifies(host: str, port: int, ca_pem: str, timeout: float = 5.0) -> bool:
    try:
        ctx = ssl.create_default_context(cadata=ca_pem)
    except (ssl.SSLError, ValueError):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock, \
                ctx.wrap_socket(sock, server_hostname=host):
            return True
    except (OSError, ssl.SSLError):
        return False


def find_trust_candidate(url: str, timeout: float = 5.0) -> TrustCandidate | None:
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        return None
    host, port = parts.hostname, parts.port or 443
    der = presented_certificate(host, port, timeout)
    if not der:
        return None
    try:
        leaf = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    if leaf.issuer == leaf.subject:
        candidates = [(leaf, "the server's self-signed certificate")]
    else:
        candidates = [(ca, f"Harbor's CA download ({GETCERT})") for ca in _harbor_ca(url.strip().rstrip("/"), timeout)]
    for cert, source in candidates:
        pem = cert.public_bytes(serialization.Encoding.PEM).decode()
        if handshake_verifies(host, port, pem, timeout):
            return TrustCandidate(pem=pem, subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
                                  not_after=cert.not_valid_after_utc.isoformat(), sha256=fingerprint(cert),
                                  source=source)
    return None
