"""A real OpenLDAP slapd for the tests (SERVICES.md): one session-scoped server on a free loopback port.

One directory, several shapes, as real directories mix them:

* ``ou=people``: inetOrgPerson users (``uid=``), every password ``USER_PASSWORD``;
* ``ou=groups``: groupOfNames (``member`` DNs), with one group nested in another;
* ``ou=posix``: posixGroup (``memberUid`` names);
* ``ou=unique``: groupOfUniqueNames (``uniqueMember`` DNs).

The session server loads the ``memberof`` overlay (SERVICES.md), as directories that work with Harbor do:
Harbor reads a user's groups only from the user entry's ``memberOf`` attribute
(src/core/auth/ldap/ldap.go@v2.13.0 attachLDAPGroup). The overlay maintains ``memberOf`` for
groupOfNames ``member`` only: posixGroup and groupOfUniqueNames members get none. slapd then runs
straight from ``slapd.conf`` (slaptest cannot convert the overlay) and the groups are added online,
since slapadd (offline) does not maintain ``memberOf``. ``slapd_without_memberof`` is a second
directory with the same data and no overlay: there Harbor attaches no LDAP group at login.
``member_of(server, uid)`` reads a user entry's ``memberOf`` values.

Stopped by its pid at the end of the session. Without slapd installed the fixture skips with the
install command (and CI=true turns that skip into a failure, tests/conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.processes import free_port

BASE = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{BASE}"
ADMIN_PASSWORD = "Slapd-Admin-Pw-4471"
USER_PASSWORD = "Ldap-User-Pw-2024"
SLAPD = "/usr/sbin/slapd"

PEOPLE = {
    # uid: (cn, sn, mail)
    "ann": ("Ann Admin", "Admin", "ann@example.org"),
    "oscar": ("Oscar Operator", "Operator", "oscar@example.org"),
    "val": ("Val Viewer", "Viewer", "val@example.org"),
    "dev1": ("Dana Dev", "Dev", "dev1@example.org"),
    "dev2": ("Dario Dev", "Dev", "dev2@example.org"),
    "nora": ("Nora Nested", "Nested", "nora@example.org"),
    "nobody": ("No Body", "Body", "nobody@example.org"),
    "alice": ("Alice Shadow", "Shadow", "alice@example.org"),  # same name as the local admin persona
}
GROUPS_OF_NAMES = {
    "harborops-admins": ["ann"],
    "harborops-operators": ["oscar"],
    "harborops-viewers": ["val", "alice"],
    "team-payments": ["dev1", "dev2"],
    "team-payments-contractors": ["nora"],
    "team-search": ["dev2"],
}
NESTED = {"team-payments": ["team-payments-contractors"]}  # parent: child groups
POSIX_GROUPS = {"hops-admins": ["ann"], "hops-operators": ["oscar"], "hops-viewers": ["val"],
                "payments": ["dev1", "dev2"]}
UNIQUE_GROUPS = {"uhops-admins": ["ann"], "uhops-operators": ["oscar"], "uhops-viewers": ["val"]}


def user_dn(uid: str) -> str:
    return f"uid={uid},ou=people,{BASE}"


def group_dn(name: str) -> str:
    return f"cn={name},ou=groups,{BASE}"


def posix_dn(name: str) -> str:
    return f"cn={name},ou=posix,{BASE}"


def unique_dn(name: str) -> str:
    return f"cn={name},ou=unique,{BASE}"


@dataclass(frozen=True)
class Slapd:
    url: str
    base: str = BASE
    bind_dn: str = ADMIN_DN
    bind_password: str = ADMIN_PASSWORD
    pid: int = 0
    memberof: bool = True  # the memberof overlay is loaded
    ldaps_url: str = ""  # set when the server also speaks LDAP over TLS (see slapd_tls)

    def env(self, shape: str = "groupOfNames") -> dict[str, str]:
        """HARBOROPS_LDAP_* for harborops' login against this directory in one shape."""
        bases = {"groupOfNames": "ou=groups", "nestedGroupOfNames": "ou=groups", "posixGroup": "ou=posix",
                 "groupOfUniqueNames": "ou=unique"}
        dn = {"groupOfNames": group_dn, "nestedGroupOfNames": group_dn, "posixGroup": posix_dn,
              "groupOfUniqueNames": unique_dn}[shape]
        prefix = {"posixGroup": "hops", "groupOfUniqueNames": "uhops"}.get(shape, "harborops")
        return {
            "HARBOROPS_LDAP_URI": self.url,
            "HARBOROPS_LDAP_BIND_DN": self.bind_dn,
            "HARBOROPS_LDAP_BIND_PASSWORD": self.bind_password,
            "HARBOROPS_LDAP_USER_BASE": f"ou=people,{self.base}",
            "HARBOROPS_LDAP_USER_FILTER": "(uid=%(user)s)",
            "HARBOROPS_LDAP_GROUP_BASE": f"{bases[shape]},{self.base}",
            "HARBOROPS_LDAP_GROUP_TYPE": shape,
            "HARBOROPS_LDAP_ADMIN_GROUPS": dn(f"{prefix}-admins"),
            "HARBOROPS_LDAP_OPERATOR_GROUPS": dn(f"{prefix}-operators"),
            "HARBOROPS_LDAP_VIEWER_GROUPS": dn(f"{prefix}-viewers"),
            "HARBOROPS_LDAP_TIMEOUT": "3",
            "HARBOROPS_LDAP_CACHE_SECONDS": "0",
        }


def _ldif() -> str:
    """Base, OUs and people: loaded offline by slapadd."""
    out = [f"dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n"]
    for ou in ("people", "groups", "posix", "unique"):
        out.append(f"dn: ou={ou},{BASE}\nobjectClass: organizationalUnit\nou: {ou}\n")
    for n, (uid, (cn, sn, mail)) in enumerate(PEOPLE.items()):
        out.append(f"dn: {user_dn(uid)}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\nuid: {uid}\n"
                   f"cn: {cn}\nsn: {sn}\ngivenName: {cn.split()[0]}\nmail: {mail}\nuidNumber: {2000 + n}\n"
                   f"gidNumber: 2000\nhomeDirectory: /home/{uid}\nuserPassword: {USER_PASSWORD}\n")
    return "\n".join(out)


def _group_entries() -> list[tuple[str, list[tuple[str, list[bytes]]]]]:
    """Every group entry, children before the groups that nest them: added online after start-up so that
    the memberof overlay (when loaded) writes ``memberOf`` on each member entry."""
    out: list[tuple[str, list[tuple[str, list[bytes]]]]] = []
    nested_children = {c for cs in NESTED.values() for c in cs}
    order = sorted(GROUPS_OF_NAMES, key=lambda n: n not in nested_children)
    for name in order:
        dns = [user_dn(m) for m in GROUPS_OF_NAMES[name]] + [group_dn(c) for c in NESTED.get(name, [])]
        out.append((group_dn(name), [("objectClass", [b"groupOfNames"]), ("cn", [name.encode()]),
                                     ("member", [d.encode() for d in dns])]))
    for n, (name, members) in enumerate(POSIX_GROUPS.items()):
        out.append((posix_dn(name), [("objectClass", [b"posixGroup"]), ("cn", [name.encode()]),
                                     ("gidNumber", [str(5000 + n).encode()]),
                                     ("memberUid", [m.encode() for m in members])]))
    for name, members in UNIQUE_GROUPS.items():
        out.append((unique_dn(name), [("objectClass", [b"groupOfUniqueNames"]), ("cn", [name.encode()]),
                                      ("uniqueMember", [user_dn(m).encode() for m in members])]))
    return out


def _conf(work: Path, memberof: bool, tls: TlsFiles | None = None) -> str:
    schema = "/etc/ldap/schema"
    return (
        "".join(f"include {schema}/{s}.schema\n" for s in ("core", "cosine", "inetorgperson", "nis"))
        + "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
        + ("moduleload memberof\n" if memberof else "")
        + f"pidfile {work}/slapd.pid\n"
        + (f"TLSCACertificateFile {tls.ca}\nTLSCertificateFile {tls.cert}\nTLSCertificateKeyFile {tls.key}\n"
           if tls else "")
        + "database mdb\nmaxsize 33554432\n"
        + f'suffix "{BASE}"\nrootdn "{ADMIN_DN}"\nrootpw {ADMIN_PASSWORD}\n'
        + f"directory {work}/data\nindex objectClass eq\nindex uid,cn,member,memberUid,uniqueMember eq\n"
        + "access to attrs=userPassword by anonymous auth by * none\naccess to * by * read\n"
        + ("overlay memberof\nmemberof-refint TRUE\n" if memberof else "")
    )


@dataclass(frozen=True)
class TlsFiles:
    ca: str  # PEM paths
    cert: str
    key: str


def start_slapd(host: str = "127.0.0.1", *, memberof: bool = True,
                tls: TlsFiles | None = None) -> tuple[Slapd, subprocess.Popen[bytes], Path]:
    """Start slapd straight from slapd.conf: people loaded offline, groups added online (so the memberof
    overlay, when ``memberof``, maintains each member's ``memberOf``). With ``tls`` it serves that
    certificate for StartTLS on its ldap:// port and on a second, ldaps:// port."""
    work = Path(tempfile.mkdtemp(prefix="harborops-slapd-"))
    (work / "data").mkdir()
    (work / "slapd.conf").write_text(_conf(work, memberof, tls))
    (work / "data.ldif").write_text(_ldif())
    conf = str(work / "slapd.conf")
    subprocess.run(["/usr/sbin/slapadd", "-f", conf, "-b", BASE, "-l", str(work / "data.ldif")],
                   check=True, capture_output=True)
    port = free_port(host)
    url = f"ldap://{host}:{port}"
    ldaps_url = f"ldaps://{host}:{free_port(host)}" if tls else ""
    log = (work / "slapd.log").open("wb")
    listen = f"{url}/" + (f" {ldaps_url}/" if ldaps_url else "")
    proc = subprocess.Popen([SLAPD, "-f", conf, "-h", listen, "-d", "0"],
                            stdout=log, stderr=subprocess.STDOUT)
    import ldap

    deadline = time.monotonic() + 15
    while True:
        try:
            conn = ldap.initialize(url)
            conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 1)
            conn.simple_bind_s(ADMIN_DN, ADMIN_PASSWORD)
            break
        except ldap.LDAPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"slapd did not start: {(work / 'slapd.log').read_text()[-2000:]}") from None
            time.sleep(0.05)
    try:
        for dn, attrs in _group_entries():
            conn.add_s(dn, attrs)
    except ldap.LDAPError:
        proc.kill()
        proc.wait()
        raise
    finally:
        conn.unbind_s()
    return Slapd(url=url, pid=proc.pid, memberof=memberof, ldaps_url=ldaps_url), proc, work


def _stop(proc: subprocess.Popen[bytes], work: Path) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(work, ignore_errors=True)


def member_of(server: Slapd, uid_or_dn: str) -> list[str]:
    """The ``memberOf`` values of a user entry (a uid under ou=people, or a full DN), as stored."""
    import ldap

    dn = uid_or_dn if "=" in uid_or_dn else user_dn(uid_or_dn)
    conn = ldap.initialize(server.url)
    try:
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 3)
        conn.simple_bind_s(server.bind_dn, server.bind_password)
        rows = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["memberOf"])
    finally:
        conn.unbind_s()
    attrs = rows[0][1] if rows else {}
    return [v.decode() for k, vs in attrs.items() if k.lower() == "memberof" for v in vs]


@pytest.fixture(scope="session")
def slapd() -> Iterator[Slapd]:
    """The session directory, WITH the memberof overlay (users of groupOfNames groups carry memberOf)."""
    if not Path(SLAPD).exists():
        pytest.skip("slapd is not installed: apt-get install -y slapd ldap-utils")
    server, proc, work = start_slapd()
    try:
        yield server
    finally:
        _stop(proc, work)


@pytest.fixture(scope="session")
def slapd_without_memberof() -> Iterator[Slapd]:
    """The same data in a directory WITHOUT the memberof overlay: no user entry carries memberOf."""
    if not Path(SLAPD).exists():
        pytest.skip("slapd is not installed: apt-get install -y slapd ldap-utils")
    server, proc, work = start_slapd(memberof=False)
    try:
        yield server
    finally:
        _stop(proc, work)


@pytest.fixture(scope="session")
def slapd_tls() -> Iterator[tuple[Slapd, str]]:
    """A directory serving a certificate from a throwaway test CA (StartTLS on ``url``, TLS on ``ldaps_url``),
    with the path of that CA's certificate."""
    if not Path(SLAPD).exists():
        pytest.skip("slapd is not installed: apt-get install -y slapd ldap-utils")
    from tests.support.certs import make_ca, make_server_cert

    pki = Path(tempfile.mkdtemp(prefix="harborops-slapd-pki-"))
    ca = make_ca("LDAP Test CA")
    ca_file, _ = ca.write(pki, "ca")
    cert, key = make_server_cert(ca, "ldap.test").write(pki, "server")
    server, proc, work = start_slapd(tls=TlsFiles(ca_file, cert, key))
    try:
        yield server, ca_file
    finally:
        _stop(proc, work)
        shutil.rmtree(pki, ignore_errors=True)


def ldap_settings(env: dict[str, str]) -> dict[str, object]:
    """harborops' LDAP settings (AUTH_LDAP_* …) for these HARBOROPS_LDAP_* values, for override_settings."""
    import os
    from unittest import mock

    from harborops.access.ldap_config import auth_ldap_settings

    with mock.patch.dict(os.environ, env):
        return auth_ldap_settings()


def unreachable_ldap_settings(bind_password: str) -> dict[str, object]:
    """Settings for a directory that is down (nothing listens on the port)."""
    return ldap_settings({**Slapd(url=f"ldap://127.0.0.1:{free_port()}").env("groupOfNames"),
                          "HARBOROPS_LDAP_BIND_PASSWORD": bind_password, "HARBOROPS_LDAP_TIMEOUT": "1"})
