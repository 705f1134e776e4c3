"""contract.py catches requests Harbor would reject and responses Harbor would never send."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from harborops.harbor import contract
from harborops.harbor.client import AsyncHarborClient, HarborClient
from harborops.harbor.contract import ABSENT, ContractViolation, check_request, check_response, to_draft4
from harborops.harbor.http import clear_transport_wrappers, install_transport_wrapper
from tests.harbor.fakes import FakeHarbor, json_response

JSON = {"content-type": "application/json"}


def test_wrong_request_is_caught() -> None:
    with pytest.raises(ContractViolation, match=r"page_size=101 exceeds maximum 100"):
        check_request("2.13.0", "GET", "/projects", {"page_size": "101"}, {}, ABSENT)
    with pytest.raises(ContractViolation, match=r"unknown query parameter 'q'"):
        check_request("2.13.0", "GET", "/replication/executions", {"q": "status=Failed"}, {}, ABSENT)
    with pytest.raises(ContractViolation, match=r"no such path in Harbor v2.12"):
        check_request("2.12.0", "GET", "/auditlog-exts", {}, {}, ABSENT)
    with pytest.raises(ContractViolation, match=r"body.schedule.type: 'Manually' is not one of"):
        check_request("2.13.0", "POST", "/system/gc/schedule", {}, JSON, {"schedule": {"type": "Manually"}})
    with pytest.raises(ContractViolation, match=r"single-encoded '/'"):
        check_request("2.13.0", "DELETE", "/projects/p/repositories/a%2Fb", {}, {}, ABSENT)
    with pytest.raises(ContractViolation, match=r"mid='x' is not an integer"):
        check_request("2.13.0", "DELETE", "/projects/p/members/x", {}, {}, ABSENT)
    with pytest.raises(ContractViolation, match=r"missing required body"):
        check_request("2.13.0", "POST", "/projects", {}, JSON, ABSENT)
    with pytest.raises(ContractViolation, match=r"takes no request body"):
        check_request("2.13.0", "PUT", "/replication/executions/3", {}, JSON, {"status": "Stopped"})
    with pytest.raises(ContractViolation, match=r"DELETE not allowed on /system/gc/schedule"):
        check_request("2.13.0", "DELETE", "/system/gc/schedule", {}, {}, ABSENT)


def test_right_requests_pass_and_return_the_template() -> None:
    body = {"schedule": {"type": "Manual"}, "parameters": {"workers": 2, "dry_run": True}}
    assert check_request("2.13.0", "POST", "/system/gc/schedule", {}, JSON, body) == "/system/gc/schedule"
    assert check_request("2.13.0", "GET", "/usergroups/search", {"groupname": "x"}, {}) == "/usergroups/search"
    assert (
        check_request("2.13.0", "DELETE", "/projects/p/repositories/a%252Fb", {}, {}, ABSENT)
        == "/projects/{project_name}/repositories/{repository_name}"
    )


def test_wrong_response_is_caught() -> None:
    hdr = {**JSON, "X-Total-Count": "1"}
    with pytest.raises(ContractViolation, match=r"response\[0\].project_id: '1' is not of type 'integer'"):
        check_response("2.13.0", "GET", "/projects", 200, hdr, [{"project_id": "1"}])
    with pytest.raises(ContractViolation, match=r"missing response header X-Total-Count"):
        check_response("2.13.0", "GET", "/projects", 200, JSON, [])
    with pytest.raises(ContractViolation, match=r"status 404 not declared"):
        check_response("2.13.0", "GET", "/projects", 404, JSON, {"errors": []})
    with pytest.raises(ContractViolation, match=r"'yesterday' is not a 'date-time'"):
        check_response("2.13.0", "GET", "/projects", 200, hdr, [{"creation_time": "yesterday"}])
    with pytest.raises(ContractViolation, match=r"must carry a body"):
        check_response("2.13.0", "GET", "/projects", 200, hdr, ABSENT)
    with pytest.raises(ContractViolation, match=r"expected a JSON body"):
        check_response("2.13.0", "GET", "/health", 200, {"content-type": "text/html"}, "<html>")
    with pytest.raises(ContractViolation, match=r"missing response header Location"):
        check_response("2.13.0", "POST", "/projects", 201, {}, ABSENT)


def test_right_responses_pass() -> None:
    hdr = {**JSON, "X-Total-Count": "1"}
    row = {"project_id": 1, "name": "a", "creation_time": "2024-01-01T00:00:00.000Z", "metadata": {"public": "true"}}
    check_response("2.13.0", "GET", "/projects", 200, hdr, [row])
    check_response("2.13.0", "GET", "/ping", 200, {"content-type": "text/plain"}, "Pong")
    check_response("2.13.0", "GET", "/system/gc/schedule", 200, {}, ABSENT)  # "empty 200 if none"
    check_response("2.13.0", "GET", "/systeminfo/getcert", 200, {"content-type": "application/octet-stream"}, b"\x30")
    check_response("2.13.0", "GET", "/projects", 401, JSON, {"errors": [{"code": "UNAUTHORIZED", "message": "x"}]})


def test_swagger_to_draft4_conversion() -> None:
    assert to_draft4({"type": "string", "x-nullable": True}) == {"type": ["string", "null"]}
    assert to_draft4({"$ref": "#/definitions/X", "x-nullable": True}) == {
        "anyOf": [{"$ref": "#/definitions/X"}, {"type": "null"}]
    }
    # go-swagger reads a bare `type: object` as interface{} (any value).
    assert to_draft4({"type": "object", "additionalProperties": {"type": "object"}}) == {
        "type": "object",
        "additionalProperties": {},
    }
    assert to_draft4({"type": "file"}) == {}
    assert to_draft4({"type": "integer", "format": "int64", "readOnly": True}) == {"type": "integer", "format": "int64"}


@pytest.mark.off_spec("tests the contract checker itself")
def test_transport_checks_client_traffic_and_records_coverage(fake: FakeHarbor) -> None:
    fake.on("GET", "/health", lambda r: json_response({"status": "healthy", "components": []}))
    fake.on("GET", "/statistics", lambda r: json_response({"total_project_count": "many"}))
    contract.reset_coverage()
    client = HarborClient("http://h", transport=contract.wrap(fake.transport(), asynchronous=False))
    assert client.health().healthy
    assert ("2.13.0", "GET", "/health", 200) in contract.coverage()
    with pytest.raises(ContractViolation, match=r"total_project_count: 'many' is not of type 'integer'"):
        client.statistics()
    assert "v2.13: 1/" in contract.coverage_report()


def test_record_mode_collects_instead_of_raising(fake: FakeHarbor) -> None:
    wrong_type = {"Content-Type": "text/plain"}  # JSON served as text: the client copes, Harbor never does it
    fake.on("GET", "/health", lambda r: json_response({"status": "healthy"}, headers=wrong_type))
    client = HarborClient("http://h", transport=contract.wrap(fake.transport(), asynchronous=False, mode="record"))
    client.health()  # returned normally...
    found = contract.recorded_violations()
    assert len(found) == 1 and "expected a JSON body, got content-type 'text/plain'" in str(found[0])
    contract.clear_violations()  # ...but the autouse gate would fail this test otherwise


@pytest.mark.off_spec("tests the contract checker itself")
def test_install_wrapper_hook_wraps_every_client_incl_explicit_transports(fake: FakeHarbor) -> None:
    fake.on("GET", "/health", lambda r: json_response({"status": "healthy", "components": "none"}))
    install_transport_wrapper(contract.wrap)
    try:
        sync_client = HarborClient("http://h", transport=fake.transport())
        async_client = AsyncHarborClient("http://h", transport=fake.transport())
    finally:
        clear_transport_wrappers()
    assert isinstance(sync_client._http._transport, contract.ContractTransport)
    assert isinstance(async_client._http._transport, contract.AsyncContractTransport)
    with pytest.raises(ContractViolation, match="components"):
        sync_client.health()
    with pytest.raises(ContractViolation, match="components"):
        asyncio.run(async_client.health())
    # After clearing, new clients are not wrapped.
    assert not isinstance(
        HarborClient("http://h", transport=fake.transport())._http._transport, contract.ContractTransport
    )


@pytest.mark.off_spec("tests the contract checker itself")
def test_missing_version_header_is_a_violation() -> None:
    transport = contract.wrap(httpx.MockTransport(lambda r: json_response({"status": "healthy"})), asynchronous=False)
    with pytest.raises(ContractViolation, match="X-Harborops-Sim-Version"):
        HarborClient("http://h", transport=transport).health()
