"""Managed CAs and the server certificates they issue: the openssl steps of Harbor's HTTPS guide,
done in the app (a CA key and self-signed CA certificate; a server key; a certificate for the
hostname with its DNS and IP SANs, signed by the CA).

Private keys are generated here, encrypted at rest, never logged or shown; they leave only through
``export_ca_key`` / ``export_issued_key`` (admin, each export in the action log)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from harborops.audit.services import record
from harborops.certificates.models import IssuedCertificate, ManagedCA
from harborops.certificates.tls import fingerprint
from harborops.core.actor import Actor

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
MAX_CA_DAYS = 10 * 3650
MAX_SERVER_DAYS = 3650
DNS_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _new_key(kind: str) -> PrivateKey:
    if kind in ("rsa4096", "rsa2048"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind == "ecp256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValidationError({"key_type": f"unknown key type {kind!r}"})


def _key_pem(key: PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _describe_key(key: Any) -> str:
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def _days(days: int, limit: int) -> int:
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError({"days": "a whole number of days"}) from None
    if not 1 <= days <= limit:
        raise ValidationError({"days": f"between 1 and {limit} days"})
    return days


def audit_view(ca: ManagedCA) -> dict[str, Any]:
    """What the action log keeps: which CA, never its key (only whether there is one)."""
    return {"name": ca.name, "scope": ca.scope, "label": ca.label, "origin": ca.origin, "subject": ca.subject,
            "key": ca.key_description, "fingerprint": ca.fingerprint, "not_after": ca.not_after.isoformat(),
            "private_key": "stored (encrypted)" if ca.can_issue else "none (trust-only)"}


def _scope(scope: str, label: str) -> tuple[str, str]:
    if scope not in ManagedCA.Scope.values:
        raise ValidationError({"scope": f"one of {', '.join(ManagedCA.Scope.values)}"})
    label = label.strip()
    if scope == ManagedCA.Scope.LABEL and "=" not in label:
        raise ValidationError({"label": "an environment label as key=value, e.g. env=prod"})
    return scope, label if scope == ManagedCA.Scope.LABEL else ""


def _save_ca(ca: ManagedCA, actor: Actor, action: str) -> ManagedCA:
    if ManagedCA.objects.filter(name=ca.name).exists():
        raise ValidationError({"name": f"a CA named {ca.name!r} exists"})
    ca.full_clean()
    with transaction.atomic():
        ca.save()
        record(actor=actor, action=action, obj=ca, before=None, after=audit_view(ca))
    return ca


def _fill_from_cert(ca: ManagedCA, cert: x509.Certificate) -> None:
    ca.certificate = cert.public_bytes(serialization.Encoding.PEM).decode()
    ca.fingerprint = fingerprint(cert)
    ca.subject = cert.subject.rfc4514_string()
    ca.key_description = _describe_key(cert.public_key())
    ca.not_before, ca.not_after = cert.not_valid_before_utc, cert.not_valid_after_utc


def create_ca(*, actor: Actor, name: str, key_type: str = ManagedCA.KeyType.RSA4096, days: int = 3650,
              common_name: str = "", organization: str = "", scope: str = ManagedCA.Scope.INSTALL,
              label: str = "") -> ManagedCA:
    """A new root CA (``openssl genrsa 4096`` + ``req -x509 -new -sha512`` in the guide)."""
    scope, label = _scope(scope, label)
    days = _days(days, MAX_CA_DAYS)
    if key_type not in ManagedCA.KeyType.values:
        raise ValidationError({"key_type": f"one of {', '.join(ManagedCA.KeyType.values)}"})
    key = _new_key(key_type)
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, (common_name.strip() or f"{name} Root CA")[:64])]
    if organization.strip():
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization.strip()[:64]))
    subject = x509.Name(attrs)
    start = now() - dt.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA512() if key_type == "rsa4096" else hashes.SHA256()))
    ca = ManagedCA(name=name.strip(), scope=scope, label=label, origin=ManagedCA.Origin.GENERATED,
                   private_key=_key_pem(key), created_by=actor.name)
    _fill_from_cert(ca, cert)
    return _save_ca(ca, actor, "certificates.ca.create")


def import_ca(*, actor: Actor, name: str, certificate: str, private_key: str = "", passphrase: str = "",
              scope: str = ManagedCA.Scope.INSTALL, label: str = "") -> ManagedCA:
    """An existing CA: with its key (it can issue) or without (trust-only: it can be pushed and checked)."""
    scope, label = _scope(scope, label)
    try:
        certs = x509.load_pem_x509_certificates(certificate.encode())
    except ValueError:
        raise ValidationError({"certificate": "not a PEM certificate"}) from None
    if len(certs) != 1:
        raise ValidationError({"certificate": f"exactly one certificate, not {len(certs)}"})
    cert = certs[0]
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise ValidationError({"certificate": "not a CA certificate (basicConstraints CA:TRUE is missing)"})
    ca = ManagedCA(name=name.strip(), scope=scope, label=label, created_by=actor.name,
                   origin=ManagedCA.Origin.IMPORTED if private_key.strip() else ManagedCA.Origin.TRUST_ONLY)
    if private_key.strip():
        try:
            key = serialization.load_pem_private_key(private_key.encode(), passphrase.encode() or None)
        except (ValueError, TypeError):
            # Never echo the key: only say what is wrong with it.
            raise ValidationError({"private_key": "not a PEM private key, or the passphrase is wrong"}) from None
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise ValidationError({"private_key": "only RSA and ECDSA keys can be used"})
        public = serialization.PublicFormat.SubjectPublicKeyInfo
        if (key.public_key().public_bytes(serialization.Encoding.DER, public)
                != cert.public_key().public_bytes(serialization.Encoding.DER, public)):
            raise ValidationError({"private_key": "this key does not belong to the certificate"})
        ca.private_key = _key_pem(key)
    _fill_from_cert(ca, cert)
    return _save_ca(ca, actor, "certificates.ca.import")


def delete_ca(ca: ManagedCA, *, actor: Actor) -> None:
    if ca.issued.exists():
        raise ValidationError({"ca": f"{ca.name} issued {ca.issued.count()} certificate(s): remove those first"})
    with transaction.atomic():
        record(actor=actor, action="certificates.ca.delete", obj=ca, before=audit_view(ca), after=None)
        ca.delete()


def export_ca_key(ca: ManagedCA, *, actor: Actor) -> str:
    """The CA's private key, for an admin; the export itself is logged (never the key)."""
    if not ca.can_issue:
        raise ValidationError({"ca": f"{ca.name} is trust-only: harborops holds no key for it"})
    record(actor=actor, action="certificates.ca.export_key", obj=ca, before=None,
           after={"fingerprint": ca.fingerprint}, message="CA private key exported")
    return ca.private_key


# --- server certificates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    dns: list[str]
    ips: list[str]


def parse_names(hostname: str, extra: list[str] | str) -> Names:
    """The hostname first, then the extra SANs; IP addresses become IP SANs, names DNS SANs
    (a leading ``*.`` allowed)."""
    items = [hostname, *(extra.replace(",", " ").split() if isinstance(extra, str) else extra)]
    dns: list[str] = []
    ips: list[str] = []
    for raw in items:
        item = raw.strip().lower().rstrip(".")
        if not item:
            continue
        try:
            ip = str(ipaddress.ip_address(item))
        except ValueError:
            labels = item.split(".")
            body = labels[1:] if labels[0] == "*" and len(labels) > 2 else labels
            if len(item) > 253 or not all(DNS_LABEL.match(part) for part in body):
                raise ValidationError({"dns_names": f"{raw.strip()!r} is not a host name or IP address"}) from None
            if item not in dns:
                dns.append(item)
            continue
        if ip not in ips:
            ips.append(ip)
    if not dns and not ips:
        raise ValidationError({"hostname": "a host name or IP address is needed"})
    return Names(dns, ips)


def issue_certificate(ca: ManagedCA, *, actor: Actor, hostname: str, sans: list[str] | str = "",
                      days: int = 365, key_type: str = IssuedCertificate.KeyType.RSA4096) -> IssuedCertificate:
    """A server key and certificate for ``hostname`` (+ ``sans``), signed by ``ca``: the CSR and
    ``x509 -req -extfile v3.ext`` steps of the guide (CA:FALSE, serverAuth, SANs)."""
    if not ca.can_issue:
        raise ValidationError({"ca": f"{ca.name} is trust-only: it cannot issue certificates"})
    if key_type not in IssuedCertificate.KeyType.values:
        raise ValidationError({"key_type": f"one of {', '.join(IssuedCertificate.KeyType.values)}"})
    names = parse_names(hostname, sans)
    days = _days(days, MAX_SERVER_DAYS)
    start = now() - dt.timedelta(minutes=5)
    end = start + dt.timedelta(days=days)
    if end > ca.not_after:
        raise ValidationError({"days": f"the CA expires {ca.not_after:%Y-%m-%d}: at most {max(ca.days_left, 0)} days"})
    ca_cert = x509.load_pem_x509_certificate(ca.certificate.encode())
    ca_key = serialization.load_pem_private_key(ca.private_key.encode(), None)
    assert isinstance(ca_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    key = _new_key(key_type)
    sans_ext: list[x509.GeneralName] = [x509.DNSName(d) for d in names.dns]
    sans_ext += [x509.IPAddress(ipaddress.ip_address(i)) for i in names.ips]
    common_name = (names.dns or names.ips)[0]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=isinstance(key, rsa.RSAPrivateKey),
                                         content_commitment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName(sans_ext), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    issued = IssuedCertificate(
        ca=ca, hostname=common_name, dns_names=names.dns, ip_addresses=names.ips, key_type=key_type,
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode(), private_key=_key_pem(key),
        fingerprint=fingerprint(cert), serial=format(cert.serial_number, "X"), not_before=start, not_after=end,
        created_by=actor.name)
    with transaction.atomic():
        issued.save()
        record(actor=actor, action="certificates.issue", obj=issued, before=None,
               after={"ca": ca.name, "dns": names.dns, "ip": names.ips, "days": days, "key_type": key_type,
                      "fingerprint": issued.fingerprint, "private_key": "generated (encrypted)"})
    return issued


def export_issued_key(issued: IssuedCertificate, *, actor: Actor) -> str:
    """The key + certificate + CA bundle (what Harbor's ``https.private_key``/``certificate`` need); logged."""
    record(actor=actor, action="certificates.issued.export_key", obj=issued, before=None,
           after={"fingerprint": issued.fingerprint}, message="server private key downloaded")
    return issued.private_key.strip() + "\n" + issued.chain_pem()
