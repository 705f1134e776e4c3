"""What uses an SSH host: the features that build on the SSH layer tell it, the SSH layer never asks them.

The SSH layer knows no feature (installs, certificates, maintenance …). A feature whose rows make a host
unremovable registers a provider in its ``AppConfig.ready()``; ``delete_host`` asks every provider before
deleting and refuses with the provider's own words. (Rows that merely PROTECT the foreign key are caught
generically by the deletion itself; a provider gives the person a message that names what to remove first.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harborops.ssh.models import SSHHost


@dataclass(frozen=True)
class HostUse:
    """``host`` is ``relation`` ``names``: e.g. "a target of the install(s)" ["harbor-prod"]."""

    relation: str
    names: tuple[str, ...]

    def message(self, host_name: str) -> str:
        return f"{host_name} is {self.relation} {', '.join(self.names)}: delete those first"


HostUseProvider = Callable[["SSHHost"], "HostUse | None"]
_providers: dict[str, HostUseProvider] = {}


def register(key: str, provider: HostUseProvider) -> None:
    """Register (or replace, by ``key``: ``ready()`` may run more than once) a provider."""
    _providers[key] = provider


def blocking_uses(host: SSHHost) -> list[HostUse]:
    found = (provider(host) for _key, provider in sorted(_providers.items()))
    return [use for use in found if use is not None and use.names]
