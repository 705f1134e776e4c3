"""The client's q / sort key lists are Harbor's model keys (#10 part 5), checked against the simulator."""

from __future__ import annotations

import pytest

from harborops.harbor.query import KEY_SOURCES, Q_KEYS, SORT_KEYS, Fuzzy, build_q, build_sort
from harborops.harbor_sim import Fleet
from harborops.harbor_sim.audit import EXT_FIELDS, LEGACY_FIELDS
from harborops.harbor_sim.query import EXECUTION_FIELDS
from tests.harbor.sim import client
from tests.harbor_sim.conftest import client_for


def test_every_resource_names_its_source() -> None:
    assert set(Q_KEYS) | set(SORT_KEYS) <= set(KEY_SOURCES)


def test_the_json_names_harbor_ignores_are_refused() -> None:
    """Source: src/pkg/auditext/model/model.go@v2.13.0 AuditLogExt (columns op_desc, op_result);
    src/pkg/task/dao/model.go@v2.13.0 Execution (no creation_time); src/pkg/robot/model/model.go@v2.13.0
    Robot (ExpiresAt is column expiresat); src/pkg/repository/model/model.go@v2.13.0 RepoRecord."""
    for resource, key in [
        ("audit_log_ext", "operation_description"),
        ("audit_log_ext", "operation_result"),
        ("registry", "status"),
        ("repository", "id"),
        ("quota", "reference"),
    ]:
        with pytest.raises(ValueError, match="unknown q key"):
            build_q(resource, {key: "x"})
    for resource, key in [("gc", "-creation_time"), ("purge", "creation_time"), ("robot", "expires_at")]:
        with pytest.raises(ValueError, match="unknown sort key"):
            build_sort(resource, key)
    assert build_q("audit_log_ext", {"op_desc": Fuzzy("push"), "op_result": False}) == "op_desc=~push,op_result=false"
    assert build_sort("gc", "-start_time") == "-start_time"


def test_client_and_simulator_key_tables_agree_where_they_overlap() -> None:
    """Both follow src/pkg/audit/model/model.go AuditLog, src/pkg/auditext/model/model.go AuditLogExt and
    src/pkg/task/dao/model.go Execution, written independently."""
    assert Q_KEYS["audit_log"] == SORT_KEYS["audit_log"] == set(LEGACY_FIELDS.values())
    assert Q_KEYS["audit_log_ext"] == SORT_KEYS["audit_log_ext"] == set(EXT_FIELDS.values())
    assert Q_KEYS["gc"] == Q_KEYS["purge"] == SORT_KEYS["replication_execution"] == set(EXECUTION_FIELDS.values())


def test_every_audit_key_the_client_allows_filters_on_the_simulator() -> None:
    """A key Harbor honours narrows the list; the simulator (src/lib/orm/query.go setFilters) must too."""
    fleet = Fleet.create(1, "2.13.0")
    fleet[1].seed_audit(50)
    values = {"id": "[100000~]", "op_time": "[~2000-01-01T00:00:00]", "project_id": "424242", "op_result": "false"}
    with client_for(fleet) as c:
        assert c.get("/auditlog-exts").headers["X-Total-Count"] == "50"
        for key in sorted(Q_KEYS["audit_log_ext"]):
            q = f"{key}={values.get(key, 'no-such-value')}"
            assert c.get("/auditlog-exts", params={"q": q}).headers["X-Total-Count"] == "0", key


@pytest.mark.parametrize(
    ("version", "given", "refused", "key", "sent"),
    [
        ("2.12.0", ("create_artifact", "delete_artifact"), "login_user", "include_operations", "create,delete"),
        ("2.13.0", ("Create_Artifact", "other"), "push_artifact", "include_event_types", "create_artifact,other"),
    ],
)
def test_purge_names_only_what_harbor_can_match(
    version: str, given: tuple[str, ...], refused: str, key: str, sent: str
) -> None:
    """Source: src/pkg/audit/dao/dao.go@v2.12.0 permitOps (pull/create/delete only);
    src/pkg/auditext/dao/dao.go@v2.13.0 permitEventTypes (EventTypes or "other", kept as given and compared
    with lower(operation || '_' || resource_type); anything else silently dropped)."""
    fleet = Fleet.create(1, version)
    h = client(fleet)
    with pytest.raises(ValueError, match=refused):
        h.run_purge_audit(retention_hours=1, event_types=(refused,))
    h.run_purge_audit(retention_hours=1, event_types=given)
    job = fleet[1].jobs.admin_jobs[max(fleet[1].jobs.admin_jobs)]
    assert job.params[key] == sent
