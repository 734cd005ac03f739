"""The operator's own platform: players, wallets, payments, games, bonuses."""

from __future__ import annotations

from ..platform.core import Platform

__all__ = ["Platform"]
