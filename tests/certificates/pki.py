"""Certificates for the scan tests, made two ways: with ``cryptography`` and with the openssl CLI
exactly as Harbor's "Configure HTTPS Access" guide does (genrsa 4096, req -x509 -sha512, a CSR,
v3.ext with SANs, x509 -req -CAcreateserial)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class Made:
    """A certificate (and its key) as files: ``chain`` is what the server presents, leaf first."""

    cert: Path
    key: Path
    chain: Path

    @property
    def pem(self) -> str:
        return self.cert.read_text()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "harborops tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass
class Authority:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


def make_authority(cn: str, parent: Authority | None = None) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(cn))
            .issuer_name(parent.cert.subject if parent else _name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=10)).not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(parent.key if parent else key, hashes.SHA256()))
    return Authority(cert, key)


def make_leaf(directory: Path, stem: str, issuer: Authority | None, *, dns: tuple[str, ...] = ("harbor.test",),
              ips: tuple[str, ...] = (), cn: str = "harbor.test", not_before_days: int = -1, days: int = 90,
              hash_algorithm: hashes.HashAlgorithm | None = None, rsa_bits: int | None = None,
              chain: tuple[Authority, ...] = ()) -> Made:
    """A server certificate signed by ``issuer`` (None: self-signed), served with ``chain`` after it."""
    key: PrivateKey = (rsa.generate_private_key(65537, rsa_bits) if rsa_bits
                       else ec.generate_private_key(ec.SECP256R1()))
    now = dt.datetime.now(dt.UTC)
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    builder = (x509.CertificateBuilder().subject_name(_name(cn))
               .issuer_name(issuer.cert.subject if issuer else _name(cn)).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now + dt.timedelta(days=not_before_days))
               .not_valid_after(now + dt.timedelta(days=not_before_days + days))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    signer = issuer.key if issuer else key
    cert = builder.sign(signer, hash_algorithm or hashes.SHA256())
    cert_path, key_path, chain_path = (directory / f"{stem}.crt", directory / f"{stem}.key",
                                       directory / f"{stem}-chain.crt")
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    cert_path.write_text(pem)
    key_path.write_bytes(_key_pem(key))
    chain_path.write_text(pem + "".join(a.pem for a in chain))
    return Made(cert_path, key_path, chain_path)


# --- the openssl CLI, as Harbor's docs do it ----------------------------------------------------------


def _run(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=120)


def openssl_ca(directory: Path, *, bits: int = 4096) -> Made:
    """``openssl genrsa -out ca.key 4096`` + ``req -x509 -new -nodes -sha512 -days 3650``."""
    _run("genrsa", "-out", "ca.key", str(bits), cwd=directory)
    _run("req", "-x509", "-new", "-nodes", "-sha512", "-days", "3650",
         "-subj", "/C=CN/ST=Beijing/L=Beijing/O=example/OU=Personal/CN=MyPersonal Root CA",
         "-key", "ca.key", "-out", "ca.crt", cwd=directory)
    return Made(directory / "ca.crt", directory / "ca.key", directory / "ca.crt")


def openssl_server(directory: Path, ca: Made, stem: str, *, dns: tuple[str, ...] = ("harbor.test",),
                   bits: int = 4096, digest: str = "sha512", days: int = 3650) -> Made:
    """The server key, CSR, v3.ext with SANs and ``x509 -req ... -CAcreateserial`` of the guide."""
    _run("genrsa", "-out", f"{stem}.key", str(bits), cwd=directory)
    _run("req", f"-{digest}", "-new", "-subj", f"/C=CN/ST=Beijing/L=Beijing/O=example/OU=Personal/CN={dns[0]}",
         "-key", f"{stem}.key", "-out", f"{stem}.csr", cwd=directory)
    alt = "\n".join(f"DNS.{i}={d}" for i, d in enumerate(dns, 1))
    (directory / f"{stem}.v3.ext").write_text(
        "authorityKeyIdentifier=keyid,issuer\nbasicConstraints=CA:FALSE\n"
        "keyUsage = digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment\n"
        f"extendedKeyUsage = serverAuth\nsubjectAltName = @alt_names\n\n[alt_names]\n{alt}\n")
    _run("x509", "-req", f"-{digest}", "-days", str(days), "-extfile", f"{stem}.v3.ext", "-CA", ca.cert.name,
         "-CAkey", ca.key.name, "-CAcreateserial", "-in", f"{stem}.csr", "-out", f"{stem}.crt", cwd=directory)
    cert = directory / f"{stem}.crt"
    return Made(cert, directory / f"{stem}.key", cert)


def openssl_self_signed(directory: Path, stem: str, *, dns: str = "harbor.test") -> Made:
    _run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "365", "-subj", f"/CN={dns}",
         "-addext", f"subjectAltName=DNS:{dns}", "-keyout", f"{stem}.key", "-out", f"{stem}.crt", cwd=directory)
    cert = directory / f"{stem}.crt"
    return Made(cert, directory / f"{stem}.key", cert)
