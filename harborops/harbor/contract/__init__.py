"""Contract checks against Harbor's own spec (the extract in ``harborops/harbor/spec``).

``check_request``/``check_response`` validate one exchange; ``ContractTransport`` /
``AsyncContractTransport`` (or ``wrap``) check every exchange of a client and record coverage.
"""

from __future__ import annotations

from harborops.harbor.contract.check import ABSENT, ContractViolation, check_request, check_response, resolve
from harborops.harbor.contract.spec import Spec, load_spec, to_draft4
from harborops.harbor.contract.transport import (
    VERSION_HEADER,
    AsyncContractTransport,
    ContractTransport,
    clear_violations,
    coverage,
    coverage_report,
    get_mode,
    recorded_violations,
    reset_coverage,
    set_mode,
    wrap,
)

__all__ = (
    "ABSENT",
    "VERSION_HEADER",
    "AsyncContractTransport",
    "ContractTransport",
    "ContractViolation",
    "Spec",
    "check_request",
    "check_response",
    "clear_violations",
    "coverage",
    "coverage_report",
    "get_mode",
    "load_spec",
    "recorded_violations",
    "reset_coverage",
    "resolve",
    "set_mode",
    "to_draft4",
    "wrap",
)
