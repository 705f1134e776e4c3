"""A stateful Harbor API simulator (no Django): many versioned instances, faults, simulated time.

In-process::

    fleet = Fleet.create(3, version=["2.8.0", "2.13.0", "2.15.0"])
    client = httpx.Client(transport=SimTransport(fleet), base_url="http://sim/h/1/api/v2.0",
                          auth=("admin", "Harbor12345"))

On a socket::

    with SimServer(fleet) as server:
        httpx.get(server.instance_url(1) + "/api/v2.0/ping")
"""

from __future__ import annotations

from harborops.harbor_sim.clock import Clock, ManualClock, ScaledClock
from harborops.harbor_sim.faults import Faults, Latency
from harborops.harbor_sim.fleet import Fleet, Simulator
from harborops.harbor_sim.http import SimRequest, SimResponse
from harborops.harbor_sim.instance import VERSION_HEADER, HarborInstance
from harborops.harbor_sim.ldap import InMemoryLdap, LdapDirectory
from harborops.harbor_sim.routes.artifacts import push_artifact
from harborops.harbor_sim.server import SimServer, serve
from harborops.harbor_sim.transport import AsyncSimTransport, SimTransport

__all__ = (
    "VERSION_HEADER",
    "AsyncSimTransport",
    "Clock",
    "Faults",
    "Fleet",
    "HarborInstance",
    "InMemoryLdap",
    "Latency",
    "LdapDirectory",
    "ManualClock",
    "ScaledClock",
    "SimRequest",
    "SimResponse",
    "SimServer",
    "SimTransport",
    "Simulator",
    "push_artifact",
    "serve",
)
