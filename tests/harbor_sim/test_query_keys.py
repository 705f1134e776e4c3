"""q / sort keys are the model's columns and Go field names; anything else is ignored (#10 part 5)."""

from __future__ import annotations

from harborops.harbor_sim import HarborInstance, push_artifact
from tests.harbor_sim.conftest import Api, location_id


def test_repository_keys_are_reporecord_columns(api: Api, inst: HarborInstance) -> None:
    """Source: src/pkg/repository/model/model.go@v2.13.0 RepoRecord (column repository_id; the JSON `id` is no
    key) and GetDefaultSorts (creation_time desc); src/lib/orm/query.go@v2.13.0 setFilters (unknown keys skipped)."""
    c = api()
    location_id(c.post("/projects", json={"project_name": "p1"}))
    for name in ("a", "b", "c"):
        push_artifact(inst, "p1", name, "v1", 10, who="admin")
    repos = c.get("/projects/p1/repositories").json()
    target = repos[1]["id"]

    def names(**query: str) -> list[str]:
        return [r["name"] for r in c.get("/projects/p1/repositories", params=query).json()]

    assert names(q=f"repository_id={target}") == [repos[1]["name"]]
    assert names(q=f"RepositoryID={target}") == [repos[1]["name"]]
    assert len(names(q=f"id={target}")) == 3  # ignored
    assert names(sort="name") == ["p1/a", "p1/b", "p1/c"]
    assert names(sort="-repository_id") == ["p1/c", "p1/b", "p1/a"]


def test_registry_status_is_the_health_column(api: Api) -> None:
    """Source: src/pkg/reg/dao/model.go@v2.13.0 Registry (Status `orm:"column(health)"`: keys `health` and
    `Status`; `status` is neither and is ignored)."""
    c = api()
    for name in ("up", "down"):
        body = {"name": name, "url": f"https://{name}.sim", "type": "harbor", "insecure": False}
        location_id(c.post("/registries", json=body))
    assert {r["status"] for r in c.get("/registries").json()} == {"healthy"}

    def count(q: str) -> int:
        return len(c.get("/registries", params={"q": q}).json())

    assert count("health=healthy") == 2 and count("health=unhealthy") == 0
    assert count("Status=unhealthy") == 0
    assert count("status=unhealthy") == 2  # ignored
