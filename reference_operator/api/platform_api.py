"""`/platform/`: drive the platform as a player or back office would. Every call publishes."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from ..platform import Platform, callbacks, games, money, players

__all__ = ["build_platform_router"]

ConsentType = Literal[
    "email", "sms", "telephone", "postMail", "siteNotification", "pushNotification"
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Profile(_Body):
    """Profile fields; on registration anything left out is made up by Faker."""

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    title: str | None = None
    address: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: str | None = Field(None, pattern=r"^[A-Z]{2}$")
    language: str | None = None
    mobile: str | None = Field(None, pattern=r"^[0-9]+$")
    mobile_prefix: str | None = Field(None, pattern=r"^\+[0-9]+$")
    birth_date: str | None = Field(None, pattern=r"^\d{4}-\d{2}-\d{2}$")
    sex: Literal["male", "female", "other"] | None = None
    roles: list[str] | None = None
    market: str | None = None
    verified_at: str | None = None


class Registration(Profile):
    """A new player; `user_id` (alphanumeric) is assigned when left out."""

    user_id: str | None = Field(None, pattern=r"^[A-Za-z0-9]+$", max_length=64)
    username: str | None = Field(None, min_length=3, max_length=255)
    consents: dict[ConsentType, bool] | None = None
    referred_by: str | None = Field(None, min_length=1, description="The referrer's user_id.")


class Login(_Body):
    ip_address: str = "127.0.0.1"


class Block(_Body):
    type: Literal["Blocked", "Excluded"]
    active: bool = True
    note: str = ""


class Money(_Body):
    amount: float = Field(gt=0, allow_inf_nan=False)


class DepositBatch(_Body):
    """Several deposits of one player in one call; each is its own change, as if posted alone."""

    amounts: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=1000
    )


class CasinoBet(Money):
    game_id: str = Field("starburst", min_length=1)
    game_name: str = Field("Starburst", min_length=1)


class CasinoWin(_Body):
    round_id: str
    amount: float = Field(ge=0, allow_inf_nan=False)


class SportsBet(Money):
    odds: float = Field(gt=1, allow_inf_nan=False)
    event_name: str = "Arsenal - Chelsea"
    outcome: str = "1"


class Settle(_Body):
    won: bool


class BonusGrant(_Body):
    bonus_code: str = "WELCOME100"
    amount: float = Field(10.0, ge=0, allow_inf_nan=False)


class CustomEvent(_Body):
    notification_type: str = Field(min_length=1, max_length=100)
    data: dict[str, str] = Field(default_factory=dict)  # FT's templates read strings


class Adjustment(_Body):
    amount: float = Field(allow_inf_nan=False)
    wallet: Literal["real_money", "bonus_money"] = "real_money"


def build_platform_router(platform: Platform) -> APIRouter:
    """The `/platform/` routes, bound to one platform."""
    router = APIRouter(prefix="/platform", tags=["platform"])

    @router.post("/players", status_code=201, summary="Register a player (USER_CREATE_V2)")
    def register(body: Registration | None = None) -> dict[str, str]:
        data = body.model_dump(exclude_none=True) if body else {}
        return {"user_id": players.register(platform, data)}

    @router.get("/players/{user_id}", summary="A player, with wallets and loyalty points")
    def show(user_id: str) -> dict[str, Any]:
        with platform.db.read() as conn:
            player = dict(platform.player(conn, user_id))
            return {**player, "loyalty_points": callbacks.loyalty_points(conn, user_id)}

    @router.post("/players/{user_id}/login", summary="Log in (LOGIN_V2); returns the sid")
    def login(user_id: str, request: Request, body: Login | None = None) -> dict[str, str]:
        ip = body.ip_address if body else (request.client.host if request.client else "")
        return {"user_id": user_id, "sid": players.login(platform, user_id, ip)}

    @router.patch("/players/{user_id}", summary="Update the profile (USER_UPDATE_V2)")
    def update(user_id: str, body: Profile) -> dict[str, str]:
        players.update_profile(platform, user_id, body.model_dump(exclude_none=True))
        return {"user_id": user_id}

    @router.put("/players/{user_id}/consents", summary="Change consents (USER_CONSENTS_V2)")
    def consents(user_id: str, body: dict[ConsentType, bool]) -> dict[str, str]:
        players.set_consents(platform, user_id, {str(k): v for k, v in body.items()})
        return {"user_id": user_id}

    @router.post("/players/{user_id}/blocks", summary="Block or unblock (USER_BLOCK_V2)")
    def block(user_id: str, body: Block) -> dict[str, str]:
        players.set_block(platform, user_id, body.type, body.active, body.note)
        return {"user_id": user_id}

    @router.post("/players/{user_id}/self-exclusion", summary="Self-exclude (USER_BLOCK_V2)")
    def self_exclude(user_id: str) -> dict[str, str]:
        players.set_block(platform, user_id, "Excluded", True, "self-exclusion")
        return {"user_id": user_id}

    @router.post("/players/{user_id}/deposits", status_code=201, summary="Deposit (PAYMENT)")
    def deposit(user_id: str, body: Money) -> dict[str, str]:
        return {"payment_id": money.deposit(platform, user_id, body.amount), "status": "Approved"}

    @router.post(
        "/players/{user_id}/deposits/batch",
        status_code=201,
        summary="Deposit several times (PAYMENT each), one round trip",
    )
    def deposit_batch(user_id: str, body: DepositBatch) -> dict[str, Any]:
        # One commit and one outbox wake-up per deposit, exactly like separate calls: the
        # batch saves the caller's round trips, not the platform's work.
        ids = [money.deposit(platform, user_id, amount) for amount in body.amounts]
        return {"payment_ids": ids, "status": "Approved"}

    @router.post("/players/{user_id}/withdrawals", status_code=201, summary="Request a withdrawal")
    def withdraw(user_id: str, body: Money) -> dict[str, str]:
        payment_id = money.withdraw(platform, user_id, body.amount)
        return {"payment_id": payment_id, "status": "Requested"}

    @router.post("/payments/{payment_id}/{action}", summary="approve|reject|cancel|rollback")
    def payment_action(
        payment_id: str, action: Literal["approve", "reject", "cancel", "rollback"]
    ) -> dict[str, str]:
        if action == "rollback":
            money.rollback(platform, payment_id)
            return {"payment_id": payment_id, "status": "Rollback"}
        status = {"approve": "Approved", "reject": "Rejected", "cancel": "Cancelled"}[action]
        money.decide_withdrawal(platform, payment_id, status)
        return {"payment_id": payment_id, "status": status}

    @router.post("/players/{user_id}/casino/bets", status_code=201, summary="Casino bet (CASINO)")
    def casino_bet(user_id: str, body: CasinoBet) -> dict[str, str]:
        round_id = games.casino_bet(platform, user_id, body.game_id, body.game_name, body.amount)
        return {"round_id": round_id}

    @router.post("/players/{user_id}/casino/wins", summary="Casino win ending a round (CASINO)")
    def casino_win(user_id: str, body: CasinoWin) -> dict[str, str]:
        games.casino_win(platform, user_id, body.round_id, body.amount)
        return {"round_id": body.round_id}

    @router.post("/players/{user_id}/sports/bets", status_code=201, summary="Sportsbook bet")
    def sports_bet(user_id: str, body: SportsBet) -> dict[str, str]:
        bet_id = games.sports_bet(
            platform, user_id, body.amount, body.odds, body.event_name, body.outcome
        )
        return {"bet_id": bet_id}

    @router.post("/sports/bets/{bet_id}/settle", summary="Settle a bet (SPORTSBOOK Settlement)")
    def settle(bet_id: str, body: Settle) -> dict[str, Any]:
        return {"bet_id": bet_id, "payout": games.sports_settle(platform, bet_id, body.won)}

    @router.post("/players/{user_id}/bonuses", status_code=201, summary="Grant a bonus (BONUS)")
    def grant(user_id: str, body: BonusGrant) -> dict[str, str]:
        return {"user_bonus_id": money.grant_bonus(platform, user_id, body.bonus_code, body.amount)}

    @router.post("/bonuses/{user_bonus_id}/{action}", summary="claim|wager|complete|cancel")
    def bonus_action(
        user_bonus_id: str, action: Literal["claim", "wager", "complete", "cancel"]
    ) -> dict[str, str]:
        status = money.bonus_transition(platform, user_bonus_id, action)
        return {"user_bonus_id": user_bonus_id, "status": status}

    @router.post(
        "/players/{user_id}/custom-events", status_code=201, summary="Something else (CUSTOM)"
    )
    def custom_event(user_id: str, body: CustomEvent) -> dict[str, str]:
        players.publish_custom(platform, user_id, body.notification_type, body.data)
        return {"user_id": user_id, "notification_type": body.notification_type}

    @router.post("/players/{user_id}/balance-adjustments", summary="Adjust a wallet")
    def adjust(user_id: str, body: Adjustment) -> dict[str, str]:
        money.adjust_balance(platform, user_id, body.amount, body.wallet)
        return {"user_id": user_id}

    @router.get("/outbox", summary="What is waiting to be published, and what was")
    def outbox(limit: int = 50) -> dict[str, Any]:
        with platform.db.read() as conn:
            counts = conn.execute(
                "SELECT SUM(delivered_at IS NULL AND abandoned = 0), "
                "SUM(delivered_at IS NOT NULL), SUM(abandoned) FROM outbox"
            ).fetchone()
            # Each player's events go out in order: only the oldest pending one can be in flight.
            # One pass over the pending index, not a lookup per row: tests poll this while
            # thousands of events wait, and it holds the database the dispatcher writes to.
            heads = conn.execute(
                "SELECT COUNT(*) FROM (SELECT MIN(id) AS head FROM outbox "
                "WHERE delivered_at IS NULL AND abandoned = 0 GROUP BY user_id) AS h "
                "JOIN outbox AS o ON o.id = h.head WHERE o.attempts = 0"
            ).fetchone()[0]
            rows = conn.execute(
                "SELECT id, user_id, event_type, attempts, delivered_at, abandoned, last_error "
                "FROM outbox ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        pending, delivered, abandoned = (int(n or 0) for n in counts)
        return {
            "pending": pending,
            "next_unsent": int(heads),  # players whose next event was never sent yet
            "delivered": delivered,
            "abandoned": abandoned,
            "recent": [dict(r) for r in rows],
        }

    return router
