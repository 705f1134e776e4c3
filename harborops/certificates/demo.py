"""The certificate part of ``manage.py demo``: a demo CA and a few simulated Harbors served over real
TLS with certificates spread over the expiry bands (one expired, one 5 days from expiry, one 25, a
healthy one, one that leaves out its intermediate), registered as endpoints and scanned."""

from __future__ import annotations

import datetime as dt
import ipaddress
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils.timezone import now

from harborops.certificates.models import Endpoint, ManagedCA
from harborops.certificates.services import ca as ca_services
from harborops.certificates.services import endpoints as endpoint_services
from harborops.core.actor import Actor
from harborops.harbor_sim import Fleet, HarborInstance
from harborops.harbor_sim.server import SimServer, ssl_context

CA_NAME = "demo-ca"
PREFIX = "demo-tls-"


@dataclass(frozen=True)
class DemoCert:
    label: str
    days_left: int
    serve_intermediate: bool = True


DEMO = [
    DemoCert(f"{PREFIX}expired", -12),
    DemoCert(f"{PREFIX}5-days", 5),
    DemoCert(f"{PREFIX}25-days", 25),
    DemoCert(f"{PREFIX}healthy", 300),
    DemoCert(f"{PREFIX}missing-intermediate", 200, serve_intermediate=False),
]


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _sign(subject: str, issuer: x509.Certificate, issuer_key: ec.EllipticCurvePrivateKey, *, ca: bool,
          start: dt.datetime, end: dt.datetime, ip: str = "") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
               .issuer_name(issuer.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(end)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if not ca:
        builder = (builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(subject),
                                                               x509.IPAddress(ipaddress.ip_address(ip))]),
                                  critical=False))
    return builder.sign(issuer_key, hashes.SHA256()), key


def demo_ca(actor: Actor) -> ManagedCA:
    existing = ManagedCA.objects.filter(name=CA_NAME).first()
    if existing is not None:
        return existing
    return ca_services.create_ca(actor=actor, name=CA_NAME, key_type=ManagedCA.KeyType.ECP256, days=3650,
                                 organization="harborops demo")


def start(host: str, actor: Actor) -> tuple[list[SimServer], list[Endpoint]]:
    """Serve each demo certificate from a simulated Harbor over TLS on ``host`` and register its endpoint."""
    ca = demo_ca(actor)
    ca_cert = x509.load_pem_x509_certificate(ca.certificate.encode())
    ca_key = serialization.load_pem_private_key(ca.private_key.encode(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey), "the demo CA is ECDSA"
    at = now()
    intermediate, inter_key = _sign("harborops demo issuing CA", ca_cert, ca_key, ca=True,
                                    start=at - dt.timedelta(days=400), end=at + dt.timedelta(days=1800))
    workdir = Path(tempfile.mkdtemp(prefix="harborops-demo-tls-"))
    servers: list[SimServer] = []
    endpoints: list[Endpoint] = []
    for spec in DEMO:
        end = at + dt.timedelta(days=spec.days_left, hours=1)
        leaf, key = _sign(f"{spec.label.removeprefix(PREFIX)}.demo.test", intermediate, inter_key, ca=False,
                          start=end - dt.timedelta(days=365), end=end, ip=host)
        chain, key_file = workdir / f"{spec.label}.crt", workdir / f"{spec.label}.key"
        chain.write_text(_pem(leaf) + (_pem(intermediate) if spec.serve_intermediate else ""))
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        fleet = Fleet([HarborInstance("2.13.1", name=spec.label)])
        server = SimServer(fleet, host, 0, ssl=ssl_context(str(chain), str(key_file))).start()
        servers.append(server)
        current = Endpoint.objects.filter(label=spec.label, instance=None).first()
        if current is None:
            endpoints.append(endpoint_services.create_endpoint(actor=actor, label=spec.label, host=host,
                                                               port=server.ports[0], ca_bundle=ca.certificate))
        else:
            endpoints.append(endpoint_services.update_endpoint(current, actor=actor, host=host, port=server.ports[0],
                                                               ca_bundle=ca.certificate))
    for path in workdir.iterdir():
        path.unlink()  # the servers have loaded their keys; nothing stays on disk
    workdir.rmdir()
    return servers, endpoints


def unregister(actor: Actor) -> int:
    gone = 0
    for endpoint in Endpoint.objects.filter(label__startswith=PREFIX, instance=None):
        endpoint_services.delete_endpoint(endpoint, actor=actor)
        gone += 1
    return gone
