"""Read the full certificate chain a TLS endpoint presents, and judge it. No Django here.

``probe()`` makes two handshakes to the same address:

1. an *unverified* one (``harborops.harbor.http.unverified_context``, security level 0) that only
   reads what the server presents, so an expired, self-signed or weak chain is still seen and
   reported; the full presented chain comes from the C-level ``get_unverified_chain()`` that
   CPython's ``_ssl`` has since 3.10 (the public ``SSLSocket.get_unverified_chain`` is 3.13+);
2. a *verified* one with the endpoint's CA bundle (or the system CAs), hostname left to our own
   SAN check, so "does the chain verify" is OpenSSL's own verdict with its own reason.

Names are resolved by an injectable resolver ``(host, port) -> [addresses]`` (tests map names to
127.0.0.x and never resolve real names); the connection goes to the address, SNI carries the name.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from harborops.harbor.http import unverified_context

__all__ = ("CertInfo", "Check", "Probe", "Resolver", "fingerprint", "parse_certificate", "probe")

Resolver = Callable[[str, int], list[str]]

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
MIN_RSA_BITS = 2048
WEAK_HASHES = frozenset({"sha1", "md5"})


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint, colon-separated upper-case hex (the form ``openssl x509 -fingerprint`` prints)."""
    return ":".join(f"{b:02X}" for b in cert.fingerprint(hashes.SHA256()))


@dataclass(frozen=True)
class CertInfo:
    """One certificate as parsed by ``cryptography``."""

    pem: str
    fingerprint: str
    subject: str
    common_name: str
    issuer: str
    serial: str
    not_before: dt.datetime
    not_after: dt.datetime
    dns_names: list[str]
    ip_addresses: list[str]
    signature_algorithm: str
    signature_hash: str
    key_type: str
    key_size: int | None
    is_ca: bool
    self_signed: bool
    cert: x509.Certificate = field(repr=False, compare=False)


@dataclass(frozen=True)
class Check:
    name: str     # hostname | trust | complete | validity | strength | harbor_ca
    status: str   # ok | warn | fail | skip
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "message": self.message}


@dataclass
class Probe:
    """What one scan of one endpoint saw. ``error`` is set when no handshake happened at all."""

    host: str
    port: int
    server_name: str
    address: str = ""
    chain: list[CertInfo] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    error: str = ""

    @property
    def leaf(self) -> CertInfo | None:
        return self.chain[0] if self.chain else None

    @property
    def status(self) -> str:
        """unreachable | failing | warning | ok"""
        if self.error:
            return "unreachable"
        states = {c.status for c in self.checks}
        return "failing" if FAIL in states else "warning" if WARN in states else "ok"


def _is_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except ValueError:
        # cryptography refuses some legacy algorithms (SHA-1) here; check the signature by hand so a
        # weak chain is still recognised as a chain (its weakness is the strength check's finding).
        return _legacy_signature_ok(cert, issuer)
    except Exception:  # InvalidSignature, TypeError (unsupported key): not its issuer
        return False
    return True


def _legacy_signature_ok(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        key, algorithm = issuer.public_key(), cert.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
            return True
        if isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
            return True
    except Exception:  # InvalidSignature, UnsupportedAlgorithm
        return False
    return False


def _key(cert: x509.Certificate) -> tuple[str, int | None]:
    try:
        key = cert.public_key()
    except Exception:  # an algorithm cryptography does not support
        return ("unknown", None)
    if isinstance(key, rsa.RSAPublicKey):
        return ("RSA", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return (f"EC {key.curve.name}", key.key_size)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ("Ed25519", 256)
    if isinstance(key, ed448.Ed448PublicKey):
        return ("Ed448", 456)
    if isinstance(key, dsa.DSAPublicKey):
        return ("DSA", key.key_size)
    return (type(key).__name__, None)


def parse_certificate(cert: x509.Certificate) -> CertInfo:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns_names = [str(n) for n in san.get_values_for_type(x509.DNSName)]
        ips = [str(a) for a in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns_names, ips = [], []
    try:
        is_ca = bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        is_ca = False
    try:
        hash_name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else ""
    except Exception:  # UnsupportedAlgorithm
        hash_name = ""
    cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    key_type, key_size = _key(cert)
    return CertInfo(
        pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        fingerprint=fingerprint(cert),
        subject=cert.subject.rfc4514_string(),
        common_name=str(cns[0].value) if cns else "",
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "X"),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        dns_names=dns_names,
        ip_addresses=ips,
        signature_algorithm=getattr(cert.signature_algorithm_oid, "_name", cert.signature_algorithm_oid.dotted_string),
        signature_hash=hash_name,
        key_type=key_type,
        key_size=key_size,
        is_ca=is_ca,
        self_signed=_is_issued_by(cert, cert),
        cert=cert,
    )


@lru_cache(maxsize=1)
def system_anchors() -> tuple[x509.Certificate, ...]:
    """The system CA certificates (the same file OpenSSL's default context loads)."""
    paths = ssl.get_default_verify_paths()
    for path in (paths.cafile, paths.openssl_cafile):
        if path:
            try:
                with open(path, "rb") as handle:
                    return tuple(x509.load_pem_x509_certificates(handle.read()))
            except (OSError, ValueError):
                continue
    return ()


def load_pem_bundle(pem: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem.encode()) if pem.strip() else []
    except ValueError:
        return []


# --- the handshakes ---------------------------------------------------------------------------------


def _resolve(host: str, port: int, resolver: Resolver) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    addresses = resolver(host, port)
    if not addresses:
        raise OSError(f"cannot resolve {host}: no addresses")
    return addresses[0]


def _sni(name: str) -> str | None:
    """Python sends no SNI for an IP address; pass None rather than rely on that."""
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        return name


def read_chain(address: str, port: int, server_name: str, timeout: float) -> list[bytes]:
    """The DER certificates the server presents, leaf first, read without verifying anything."""
    ctx = unverified_context()
    # An observer must see weak chains to report them: accept any key size and signature here.
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with (
        socket.create_connection((address, port), timeout=timeout) as sock,
        ctx.wrap_socket(sock, server_hostname=_sni(server_name)) as tls,
    ):
        sslobj: Any = tls._sslobj  # type: ignore[attr-defined]
        chain = sslobj.get_unverified_chain() if hasattr(sslobj, "get_unverified_chain") else None
        if chain:
            return [c.public_bytes(ssl._ssl.ENCODING_DER) for c in chain]  # type: ignore[attr-defined]
        leaf = tls.getpeercert(binary_form=True)
        return [leaf] if leaf else []


def verify_chain(address: str, port: int, server_name: str, ca_pem: str, timeout: float) -> tuple[bool, str]:
    """OpenSSL's verdict on the presented chain against ``ca_pem`` (or the system CAs); the
    hostname is judged separately (SAN check) so the two findings stay apart."""
    try:
        ctx = ssl.create_default_context(cadata=ca_pem) if ca_pem.strip() else ssl.create_default_context()
    except (ssl.SSLError, ValueError) as exc:
        return (False, f"the CA bundle cannot be used: {exc}")
    ctx.check_hostname = False
    try:
        with (
            socket.create_connection((address, port), timeout=timeout) as sock,
            ctx.wrap_socket(sock, server_hostname=_sni(server_name)),
        ):
            return (True, "")
    except ssl.SSLCertVerificationError as exc:
        return (False, exc.verify_message or str(exc))
    except ssl.SSLError as exc:
        return (False, f"handshake failed: {exc.reason or exc}")


# --- the checks ---------------------------------------------------------------------------------------


def _dns_match(pattern: str, name: str) -> bool:
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if pattern.startswith("*.") and "." in name:
        # RFC 6125 6.4.3: the wildcard stands for exactly the left-most label.
        return name.split(".", 1)[1] == pattern[2:] and bool(name.split(".", 1)[0])
    return False


def check_hostname(leaf: CertInfo, name: str) -> Check:
    try:
        wanted_ip = ipaddress.ip_address(name)
    except ValueError:
        wanted_ip = None
    if wanted_ip is not None:
        if any(ipaddress.ip_address(a) == wanted_ip for a in leaf.ip_addresses):
            return Check("hostname", OK, f"{name} is an IP address SAN")
    elif any(_dns_match(p, name) for p in leaf.dns_names):
        return Check("hostname", OK, f"{name} matches a DNS SAN")
    sans = ", ".join(leaf.dns_names + leaf.ip_addresses) or "none"
    if leaf.common_name and leaf.common_name.lower() == name.lower():
        return Check("hostname", FAIL, f"{name} is only the subject CN, not a SAN (SANs: {sans}); clients "
                                       "ignore the CN since RFC 2818/6125")
    return Check("hostname", FAIL, f"{name} matches no SAN (SANs: {sans})")


def check_complete(chain: list[CertInfo], anchors: list[x509.Certificate]) -> Check:
    for i in range(len(chain) - 1):
        if not _is_issued_by(chain[i].cert, chain[i + 1].cert):
            return Check("complete", FAIL, f"certificate {i + 2} ({chain[i + 1].subject}) did not issue "
                                           f"certificate {i + 1} ({chain[i].subject}): the chain is out of order")
    last = chain[-1]
    if last.self_signed:
        return Check("complete", OK, f"{len(chain)} certificate(s), ending at the root {last.subject}")
    issuer = next((a for a in anchors if _is_issued_by(last.cert, a)), None)
    if issuer is None:
        return Check("complete", FAIL, f"missing intermediate: {last.issuer} (issuer of {last.subject}) is "
                                       "neither served nor a trusted CA")
    if not _is_issued_by(issuer, issuer):
        return Check("complete", FAIL, f"missing intermediate: {issuer.subject.rfc4514_string()} is not served "
                                       "(only the CA bundle has it; other clients fail)")
    return Check("complete", OK, f"{len(chain)} certificate(s) up to the trusted root "
                                 f"{issuer.subject.rfc4514_string()}")


def check_validity(chain: list[CertInfo], now: dt.datetime) -> Check:
    for i, info in enumerate(chain):
        which = "the server certificate" if i == 0 else f"chain certificate {i + 1} ({info.subject})"
        if now < info.not_before:
            return Check("validity", FAIL, f"{which} is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC")
        if now > info.not_after:
            return Check("validity", FAIL, f"{which} expired {info.not_after:%Y-%m-%d %H:%M} UTC")
    days = (chain[0].not_after - now).days
    return Check("validity", OK, f"valid, {days} days left")


def check_strength(chain: list[CertInfo]) -> Check:
    problems = []
    for info in chain:
        if info.key_type in ("RSA", "DSA") and (info.key_size or 0) < MIN_RSA_BITS:
            problems.append(f"{info.subject}: {info.key_type} {info.key_size} bits (< {MIN_RSA_BITS})")
        if info.signature_hash in WEAK_HASHES and not info.self_signed:
            problems.append(f"{info.subject}: signed with {info.signature_hash.upper()} ({info.signature_algorithm})")
    if problems:
        return Check("strength", FAIL, "weak: " + "; ".join(problems))
    return Check("strength", OK, "keys and signatures are strong")


def check_harbor_ca(chain: list[CertInfo], harbor_ca: bytes | None, anchors: list[x509.Certificate]) -> Check:
    """Harbor's ``/systeminfo/getcert`` (the CA it offers for download) should be the chain's root."""
    if harbor_ca is None:
        return Check("harbor_ca", SKIP, "the instance offers no CA download")
    try:
        offered = x509.load_pem_x509_certificates(harbor_ca)
    except ValueError:
        return Check("harbor_ca", FAIL, "/systeminfo/getcert returned no PEM certificate")
    last = chain[-1]
    for ca in offered:
        if fingerprint(ca) == last.fingerprint and last.self_signed:
            return Check("harbor_ca", OK, f"the offered CA {ca.subject.rfc4514_string()} is the served root")
        if _is_issued_by(last.cert, ca) and _is_issued_by(ca, ca):
            return Check("harbor_ca", OK, f"the offered CA {ca.subject.rfc4514_string()} is the chain's root")
    names = ", ".join(c.subject.rfc4514_string() for c in offered)
    return Check("harbor_ca", FAIL, f"/systeminfo/getcert offers {names}, which is not the root of the served chain")


def probe(host: str, port: int, *, server_name: str = "", ca_pem: str = "", resolver: Resolver,
          timeout: float = 5.0, now: dt.datetime | None = None,
          harbor_ca: Callable[[], bytes | None] | None = None) -> Probe:
    """Handshake, parse, judge. ``harbor_ca`` fetches the instance's getcert (None: not an instance)."""
    name = server_name or host
    result = Probe(host=host, port=port, server_name=name)
    try:
        result.address = _resolve(host, port, resolver)
        ders = read_chain(result.address, port, name, timeout)
    except (OSError, ssl.SSLError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    if not ders:
        result.error = "the server presented no certificate"
        return result
    try:
        result.chain = [parse_certificate(x509.load_der_x509_certificate(d)) for d in ders]
    except ValueError as exc:
        result.error = f"a presented certificate cannot be parsed: {exc}"
        return result
    now = now or dt.datetime.now(dt.UTC)
    anchors = load_pem_bundle(ca_pem) if ca_pem.strip() else list(system_anchors())
    verified, reason = verify_chain(result.address, port, name, ca_pem, timeout)
    source = "the CA bundle" if ca_pem.strip() else "the system CAs"
    checks = [
        check_hostname(result.chain[0], name),
        Check("trust", OK, f"verifies against {source}") if verified
        else Check("trust", FAIL, f"does not verify against {source}: {reason}"),
        check_complete(result.chain, anchors),
        check_validity(result.chain, now),
        check_strength(result.chain),
    ]
    if harbor_ca is not None:
        try:
            checks.append(check_harbor_ca(result.chain, harbor_ca(), anchors))
        except Exception as exc:  # the Harbor client's errors: report, never stop the scan
            checks.append(Check("harbor_ca", SKIP, f"cannot read /systeminfo/getcert: {exc}"))
    result.checks = checks
    return result
