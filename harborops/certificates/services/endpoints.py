"""Endpoints: the fleet's instance URLs (kept in step with the fleet) and the ones admins add (audited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from harborops.audit.services import record
from harborops.certificates.models import Endpoint, ManagedCA
from harborops.certificates.tls import load_pem_bundle
from harborops.core.actor import Actor
from harborops.fleet.models import Instance

EDITABLE_FIELDS = frozenset({"label", "host", "port", "server_name", "ca_bundle", "enabled", "trust_ca"})


def audit_view(endpoint: Endpoint) -> dict[str, Any]:
    return {"label": endpoint.label, "host": endpoint.host, "port": endpoint.port,
            "server_name": endpoint.server_name, "enabled": endpoint.enabled,
            "ca_bundle": f"{len(load_pem_bundle(endpoint.ca_bundle))} certificate(s)" if endpoint.ca_bundle else "",
            "trust_ca": endpoint.trust_ca.name if endpoint.trust_ca_id and endpoint.trust_ca else ""}


def instance_target(instance: Instance) -> tuple[str, int] | None:
    """(host, port) of an https instance URL; None for http (nothing to scan)."""
    parts = urlsplit(instance.url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    try:
        return parts.hostname, parts.port or 443
    except ValueError:
        return None


def sync_instance_endpoints() -> int:
    """One endpoint per enabled https instance, following its URL and name; others are removed.
    Returns how many instance endpoints exist afterwards."""
    kept: list[int] = []
    for instance in Instance.objects.filter(enabled=True).only("pk", "name", "url", "enabled"):
        target = instance_target(instance)
        if target is None:
            continue
        host, port = target
        endpoint, _ = Endpoint.objects.get_or_create(
            instance=instance, defaults={"label": instance.name, "host": host, "port": port,
                                         "source": Endpoint.Source.INSTANCE})
        if (endpoint.label, endpoint.host, endpoint.port) != (instance.name, host, port):
            Endpoint.objects.filter(pk=endpoint.pk).update(label=instance.name, host=host, port=port)
        kept.append(endpoint.pk)
    Endpoint.objects.filter(source=Endpoint.Source.INSTANCE).exclude(pk__in=kept).delete()
    return len(kept)


def _validate(endpoint: Endpoint) -> None:
    endpoint.host = endpoint.host.strip().lower()
    endpoint.server_name = endpoint.server_name.strip().lower()
    if not endpoint.host or any(c in endpoint.host for c in " /:@"):
        raise ValidationError({"host": "a host name or IP address, without scheme or port"})
    if not 1 <= int(endpoint.port) <= 65535:
        raise ValidationError({"port": "a port from 1 to 65535"})
    if endpoint.ca_bundle.strip() and not load_pem_bundle(endpoint.ca_bundle):
        raise ValidationError({"ca_bundle": "not a PEM certificate bundle"})
    duplicate = Endpoint.objects.filter(instance=None, host=endpoint.host, port=endpoint.port,
                                        server_name=endpoint.server_name).exclude(pk=endpoint.pk)
    if duplicate.exists():
        raise ValidationError({"host": f"{endpoint.host}:{endpoint.port} with this server name is already watched"})
    endpoint.full_clean(validate_constraints=False)


def create_endpoint(*, actor: Actor, label: str, host: str, port: int = 443, server_name: str = "",
                    ca_bundle: str = "", enabled: bool = True, trust_ca: ManagedCA | None = None) -> Endpoint:
    endpoint = Endpoint(label=label, host=host, port=port, server_name=server_name, ca_bundle=ca_bundle,
                        enabled=enabled, source=Endpoint.Source.MANUAL, trust_ca=trust_ca)
    _validate(endpoint)
    with transaction.atomic():
        endpoint.save()
        record(actor=actor, action="certificates.endpoint.create", obj=endpoint, before=None,
               after=audit_view(endpoint))
    return endpoint


def update_endpoint(endpoint: Endpoint, *, actor: Actor, **changes: Any) -> Endpoint:
    """Instance endpoints follow the fleet: only their CA bundle and enabled flag are editable."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"not editable: {', '.join(sorted(unknown))}")
    if endpoint.source == Endpoint.Source.INSTANCE:
        fixed = {k for k in changes if k not in ("ca_bundle", "enabled", "trust_ca")
                 and changes[k] != getattr(endpoint, k)}
        if fixed:
            raise ValidationError({"host": "an instance's endpoint follows its URL: change the instance instead"})
    before = audit_view(endpoint)
    for name, value in changes.items():
        setattr(endpoint, name, value)
    _validate(endpoint)
    with transaction.atomic():
        endpoint.save()
        record(actor=actor, action="certificates.endpoint.update", obj=endpoint, before=before,
               after=audit_view(endpoint))
    return endpoint


def delete_endpoint(endpoint: Endpoint, *, actor: Actor) -> None:
    if endpoint.source == Endpoint.Source.INSTANCE:
        raise ValidationError({"endpoint": "an instance's endpoint goes away with the instance (or disable it)"})
    with transaction.atomic():
        record(actor=actor, action="certificates.endpoint.delete", obj=endpoint, before=audit_view(endpoint),
               after=None)
        endpoint.delete()
