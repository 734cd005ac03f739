"""`mock-ft verify`: drive an operator's Operator API the way FT will, and say if it is ready."""

from __future__ import annotations

from mock_ft.verify.model import CheckResult, VerifyOptions
from mock_ft.verify.runner import run_verification

__all__ = ["CheckResult", "VerifyOptions", "run_verification"]
