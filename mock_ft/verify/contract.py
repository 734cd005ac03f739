"""Property-based contract tests of the Operator API with Schemathesis, seeded and reproducible."""

from __future__ import annotations

from typing import Any

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from mock_ft.contracts import contracts_dir
from mock_ft.lookups.shapes import OPERATOR_CONTRACT_FILE
from mock_ft.verify.model import CheckResult, Exchange, VerifyOptions

__all__ = ["check_contract"]

STEP = "Contract (property-based)"
_CHECKS = {
    # Not `not_a_server_error` for valid data: FT documents 501 for an unknown reconciliation
    # field, and an undocumented 5xx fails status_code_conformance anyway.
    GenerationMode.POSITIVE: [
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ],
    GenerationMode.NEGATIVE: [negative_data_rejection],
}


def check_contract(options: VerifyOptions, auth_headers: dict[str, str]) -> list[CheckResult]:
    """Generated valid and invalid requests per operation; the first failure of each is kept."""
    schema = schemathesis.openapi.from_path(str(contracts_dir() / OPERATOR_CONTRACT_FILE))
    results = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        for item in schema.get_all_operations():
            operation = item.ok()  # type: ignore[union-attr]  # our own contract is valid
            results.append(_run(operation, mode, options, auth_headers))
    return results


def _run(
    operation: Any, mode: GenerationMode, options: VerifyOptions, auth: dict[str, str]
) -> CheckResult:
    failures: list[tuple[str, Exchange]] = []
    calls = [0]
    base_url = options.operator_url.rstrip("/")

    @hypothesis.settings(
        max_examples=options.max_examples,
        deadline=None,
        database=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is evidence
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.seed(options.seed)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def explore(case: Any) -> None:
        if failures:
            return
        calls[0] += 1
        response = case.call(base_url=base_url, headers=auth, timeout=options.timeout_seconds)
        try:
            case.validate_response(response, checks=_CHECKS[mode])
        except (AssertionError, FailureGroup) as exc:  # one failure, or a group of them
            failures.append((_headline(exc), _exchange(case, response)))

    try:
        explore()
    except hypothesis.errors.Unsatisfiable:
        return CheckResult(STEP, _name(operation, mode), True, "no such requests", skipped=True)
    if failures:
        message, exchange = failures[0]
        return CheckResult(STEP, _name(operation, mode), False, message, [exchange])
    return CheckResult(STEP, _name(operation, mode), True, f"{calls[0]} generated request(s)")


def _name(operation: Any, mode: GenerationMode) -> str:
    kind = "valid" if mode is GenerationMode.POSITIVE else "invalid"
    return f"{operation.method.upper()} {operation.path} handles generated {kind} requests"


def _headline(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    lines = [line.strip(" -") for line in text if line.strip(" -")]
    return "; ".join(lines[1:3]) if len(lines) > 2 else (lines[0] if lines else "failed")


def _exchange(case: Any, response: Any) -> Exchange:
    request = response.request
    headers = {
        k: "***" if k.lower() in ("authorization", "x-api-key") else v
        for k, v in request.headers.items()
    }
    body = request.body.decode("utf-8", "replace") if isinstance(request.body, bytes) else None
    return Exchange(
        request.method or case.method,
        request.url,
        headers,
        body,
        response.status_code,
        response.text[:2000],
        _seconds(response.elapsed) * 1000,
    )


def _seconds(elapsed: Any) -> float:
    """Schemathesis gives seconds as a float; other transports a timedelta."""
    return float(elapsed.total_seconds() if hasattr(elapsed, "total_seconds") else elapsed)
