"""The player model: FT-style segmentation folded from the journal and the lookups."""

from __future__ import annotations

from mock_ft.players.model import ACTIVE_BONUS_STATUSES, PLAYER_FIELDS, PlayerState
from mock_ft.players.view import PlayerModel, PlayerPage

__all__ = ["ACTIVE_BONUS_STATUSES", "PLAYER_FIELDS", "PlayerModel", "PlayerPage", "PlayerState"]
