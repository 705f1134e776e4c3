"""Alert conditions of LDAP team mappings (contract: harborops/core/conditions.py), from the findings
the last drift check stored (``DriftFinding`` rows are replaced on every check, so what is stored is
what is open):

- ``access.drift``: an instance's projects differ from what the mappings say (missing project or
  member, wrong role, extra member of an authoritative project, left-overs of a removed mapping);
- ``access.drift_unchecked``: the check could not compare an instance (not in LDAP mode, needs
  sysadmin credentials, or an error).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator

from django.urls import reverse

from harborops.access.models import DriftFinding
from harborops.core.conditions import Occurrence, conditions

TITLES = {
    "access.drift": "LDAP team mapping drift",
    "access.drift_unchecked": "LDAP team mappings could not be checked",
}
K = DriftFinding.Kind
UNCHECKED = (K.NOT_LDAP, K.NEEDS_SYSADMIN, K.ERROR)


def open_findings() -> dict[tuple[int, str], list[DriftFinding]]:
    """(instance id, instance name) -> its stored findings, enabled instances only."""
    out: dict[tuple[int, str], list[DriftFinding]] = defaultdict(list)
    for f in DriftFinding.objects.filter(instance__enabled=True).select_related("instance"):
        out[(f.instance_id, f.instance.name)].append(f)
    return out


@conditions("access", TITLES)
def access_conditions(at: dt.datetime) -> Iterator[Occurrence]:
    link = reverse("access:drift_list")
    for (pk, name), findings in sorted(open_findings().items(), key=lambda kv: kv[0][1]):
        drift = [f for f in findings if f.kind not in UNCHECKED]
        unchecked = [f for f in findings if f.kind in UNCHECKED]
        checked = max(f.checked_at for f in findings)
        if drift:
            counts = Counter(str(K(f.kind).label).lower() for f in drift)
            what = ", ".join(f"{n} × {label}" for label, n in sorted(counts.items()))
            lines = [f"{K(f.kind).label}: {f.project_name} {f.entity}".strip() for f in drift[:20]]
            more = f"\n… and {len(drift) - 20} more" if len(drift) > 20 else ""
            yield Occurrence("access.drift", f"instance:{pk}", "warning",
                             f"{name}: {len(drift)} drift finding(s): {what}",
                             details=f"checked {checked:%Y-%m-%d %H:%M} UTC\n" + "\n".join(lines) + more,
                             link=link, instance_id=pk)
        if unchecked:
            yield Occurrence("access.drift_unchecked", f"instance:{pk}", "info",
                             f"{name}: team mappings not checked ({K(unchecked[0].kind).label.lower()})",
                             details="\n".join(f.detail for f in unchecked[:5] if f.detail),
                             link=link, instance_id=pk)
