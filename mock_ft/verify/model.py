"""What a verification run is given and what it finds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mock_ft.errors import ConfigError
from mock_ft.settings import LOOKUP_CONCURRENCY, CommonSettings

__all__ = ["STEPS", "CheckResult", "Credit", "Exchange", "VerifyOptions"]

# FT's integration steps (facts file, section 1), in the order a report shows them.
STEPS = (
    "Authentication",
    "User data",
    "Consents",
    "Blocks and reconciliation",
    "Bonus and session",
    "Refusals",  # FT-invalid values for a known user: each refused, nothing changed
    "Resilience",  # FT's calls as they really arrive: repeated, with an expired token, abandoned
    "Contract (property-based)",
    "Latency",
    "Event feed",
)


@dataclass(slots=True)
class VerifyOptions:
    """How to reach the operator, and what to check."""

    operator_url: str
    auth: str | None  # api-key:KEY | basic:USER:PASS | oauth:TOKEN_URL:CLIENT_ID:SECRET
    user_ids: list[str]
    ft_url: str | None = None
    oauth_method: str = "post"
    seed: int = 0
    max_examples: int = 25
    p95_budget_ms: float = 500.0
    concurrency: int = LOOKUP_CONCURRENCY  # callers driving each read endpoint at once
    concurrent_calls: int = 40  # calls per read endpoint under that concurrency
    timeout_seconds: float = 10.0
    bonus_code: str | None = None  # default: the first code /bonus/list offers
    sid: str | None = None  # a live session id of a test user, to check /authenticate accepts it
    token_expiry_wait_seconds: float = 10.0  # longest OAuth token lifetime worth waiting out
    # How long the event feed waits for events the operator must publish after verify's own
    # writes (consent changes, bonus credits): FT wants them within 1 s, plus a margin.
    event_wait_seconds: float = 1.5
    steps: tuple[str, ...] = STEPS  # which of FT's steps to check (all by default)
    control_token: str | None = None  # the mock's /_mock/ token, for the event-feed checks

    @classmethod
    def from_settings(
        cls,
        settings: CommonSettings,
        user_ids: Sequence[str],
        *,
        steps: Sequence[str] | None = None,
        **options: Any,
    ) -> VerifyOptions:
        """A run's options: the operator, its credentials, the OAuth2 method and the mock's
        control token from `settings` (so `verify` and the pytest plugin's `ft_verify` read one
        config alike); `options` are the other fields (None: the default). The one place a
        VerifyOptions is assembled; ConfigError says what is missing or wrong."""
        if not settings.operator_url:
            msg = (
                "no operator to verify; pass --operator-url (or set operator_url in --config, "
                "or MOCK_FT_OPERATOR_URL; in pytest: ft_verify(operator_url=...) or "
                "--ft-operator-url)"
            )
            raise ConfigError(msg)
        if not user_ids:
            msg = (
                "verify needs at least one test user the operator knows: --user-id "
                "(repeatable; in pytest: ft_verify(user_ids=[...]))"
            )
            raise ConfigError(msg)
        unknown = [step for step in steps or () if step not in STEPS]
        if unknown:
            msg = f"unknown step {unknown[0]!r}; steps are: {', '.join(STEPS)}"
            raise ConfigError(msg)
        given = {name: value for name, value in options.items() if value is not None}
        try:
            return cls(
                operator_url=settings.operator_url,
                auth=settings.secret("operator_auth"),
                user_ids=list(user_ids),
                oauth_method=settings.operator_oauth_method,
                steps=tuple(steps) if steps else STEPS,
                control_token=settings.secret("control_token"),
                **given,
            )
        except TypeError as exc:  # an option verify does not have: name it
            raise ConfigError(str(exc).removeprefix("VerifyOptions.__init__() ")) from None

    def wants(self, step: str) -> bool:
        """True when `step` is among the steps to check."""
        return step in self.steps


@dataclass(slots=True)
class Exchange:
    """One request and its answer, secrets masked: the evidence behind a check."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status: int | None
    response_body: str | None
    latency_ms: float | None

    def reproduce(self) -> str:
        """A curl command that repeats the request (credentials left as placeholders)."""
        parts = [f"curl -X {self.method} '{self.url}'"]
        parts += [f"-H '{k}: {v}'" for k, v in self.request_headers.items()]
        if self.request_body is not None:
            parts.append(f"-d '{self.request_body}'")
        return " ".join(parts)


@dataclass(slots=True)
class CheckResult:
    """One named check: passed or not, why, and the exchange that shows it."""

    step: str
    name: str
    passed: bool
    message: str
    evidence: list[Exchange] = field(default_factory=list)
    skipped: bool = False
    seconds: float = 0.0
    samples_ms: list[float] = field(default_factory=list)  # Latency checks: every call's time


@dataclass(slots=True, frozen=True)
class Credit:
    """A bonus credit verify sent; the event feed proves it was credited (or, refused, not)."""

    ft_id: str  # its X-Fasttrack-Id, echoed in the BONUS events' fasttrack_references
    endpoint: str  # bonus/credit or bonus/credit/funds
    user_id: str
    sent_at: float  # Unix time
    amount: float | None  # what /bonus/credit/funds was asked to credit
    valid: bool  # a valid request (else one of the Refusals step's FT-invalid bodies)
    accepted: bool  # answered 2xx
