"""Session-wide test setup: personas, the CI no-skip rule, the test app, Playwright on Debian's
Chromium. Services (workers, browsers) are started by the fixtures that need them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harborops.harbor import contract
from harborops.harbor.http import install_transport_wrapper, remove_transport_wrapper

pytest_plugins = ["tests.support.fixtures", "tests.support.sshd"]  # sshd: the session sshd fixture


def pytest_configure(config: pytest.Config) -> None:
    from tests.support import netguard

    netguard.install()  # loopback only, no real name resolved: see tests/support/netguard.py

_skipped: list[str] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API leaves an event loop on the main thread, and
    asyncio.run() in any later test would refuse to start."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get("CI", "").lower() == "true" and _skipped:
        print(f"\nCI=true: {len(_skipped)} skipped test(s) count as failures:\n  " + "\n  ".join(_skipped))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Debian's Chromium; never `playwright install` (no internet).
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]}


@pytest.fixture(scope="session", autouse=True)
def _patient_expectations() -> None:
    """Playwright's expect() waits 5 s by default; on a loaded two-core machine a page's htmx round trip can
    take longer. Waiting longer costs nothing when the page is right, and no browser test measures time."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)


@pytest.fixture(autouse=True)
def _harbor_contract(request: pytest.FixtureRequest) -> Iterator[None]:
    """For the whole suite: every Harbor client any code builds talks through the contract checker,
    and a test fails if any request or response it caused breaks Harbor's spec for that version.
    Tests marked ``off_spec`` feed a client deliberately wrong answers, or test the checker itself."""
    if request.node.get_closest_marker("off_spec"):
        contract.set_mode("raise")  # the checker's own default, which these tests rely on
        yield
        contract.clear_violations()
        return
    contract.set_mode("record")
    contract.clear_violations()
    install_transport_wrapper(contract.wrap)
    yield
    remove_transport_wrapper(contract.wrap)
    found = contract.recorded_violations()
    contract.clear_violations()
    if found:
        pytest.fail("Harbor contract violations:\n" + "\n".join(str(v) for v in found))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    covered = contract.coverage()
    if not covered:
        return
    report = contract.coverage_report()
    path = os.environ.get("HARBOROPS_CONTRACT_REPORT", "")
    if path:
        with open(path, "w") as handle:
            handle.write(report)
    operations = {(v, m, t) for v, m, t, _ in covered}
    versions = sorted({v for v, *_ in covered})
    terminalreporter.write_line(
        f"Harbor contract: {len(operations)} endpoint x version pairs exercised across {len(versions)} versions "
        f"({', '.join(versions)}); zero violations allowed"
        + (f"; full report in {path}" if path else ""))
