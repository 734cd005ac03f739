"""The operator's own platform: players, wallets, payments, games, bonuses."""

from __future__ import annotations

from reference_operator.platform.core import Platform

__all__ = ["Platform"]
