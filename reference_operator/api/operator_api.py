"""The Operator API FT calls, in FT's strict shapes (facts file, section 3).

Unknown users answer 404 with FT's generic error `{"error": ..., "code": ...}`. Bonus crediting
is idempotent on `X-Fasttrack-Id`, and the `X-Fasttrack-*` headers are echoed into the BONUS
event's `fasttrack_references`; `/bonus/credit` also takes the Callback Actions key. Defect
switches bend these shapes on purpose.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from reference_operator.api.auth import OperatorAuth
from reference_operator.api.defective import (
    ConcurrencySlowdown,
    apply_item_by_item,
    leaky_user_lock,
)
from reference_operator.api.fasttrack_headers import fasttrack_id, fasttrack_references
from reference_operator.api.operator_models import (
    RECONCILIATION_FIELDS,
    Authenticate,
    BonusCredit,
    ConsentChange,
    FundsCredit,
    LaxConsentChange,
    Reconciliation,
    UkgcConsent,
)
from reference_operator.ft.events import ft_timestamp
from reference_operator.platform import Platform, money, players
from reference_operator.platform.core import CONSENT_TYPES

__all__ = ["RECONCILIATION_FIELDS", "build_operator_router"]

_SLOW_SECONDS = 1.5  # the `slow_lookups` defect
# Also reached as Callback Actions (refer-a-friend, chat bonus bot), which send only x-api-key
_CALLBACK_ROUTES = frozenset({"/bonus/credit"})
_RETIRED_CODE = {"text": "Spring 2019 (retired)", "value": "SPRING2019"}


def not_found(user_id: str) -> HTTPException:
    """404 in FT's generic error shape."""
    return HTTPException(
        status_code=404, detail={"error": f"user {user_id} not found", "code": 404}
    )


def build_operator_router(platform: Platform, auth: OperatorAuth) -> APIRouter:
    """The Operator API routes, protected by the configured auth scheme."""
    settings = platform.settings

    def guard(request: Request) -> None:
        route = getattr(request.scope.get("route"), "path", None)
        if route not in _CALLBACK_ROUTES or not auth.callback_key_ok(request):
            auth.require(request)
        if settings.has("slow_lookups"):
            time.sleep(_SLOW_SECONDS)

    dependencies = [Depends(guard)]
    if settings.has("abandoned_calls_lock_user"):
        dependencies.append(Depends(leaky_user_lock()))
    if settings.has("slow_under_concurrency"):
        dependencies.append(Depends(ConcurrencySlowdown()))
    router = APIRouter(tags=["operator-api"], dependencies=dependencies)

    def lookup(user_id: str, view: Callable[[sqlite3.Connection, sqlite3.Row], Any]) -> Any:
        with platform.db.read() as conn:
            row = conn.execute("SELECT * FROM players WHERE user_id = ?", (user_id,)).fetchone()
            if row is None:
                if settings.has("unknown_user_200"):
                    return {}
                raise not_found(user_id)
            return view(conn, row)

    def first_player(conn: sqlite3.Connection, row: sqlite3.Row) -> sqlite3.Row:
        """`userdetails_wrong_user`: a cache keyed on nothing answers the first player cached."""
        first: sqlite3.Row = conn.execute("SELECT * FROM players ORDER BY rowid LIMIT 1").fetchone()
        return first if settings.has("userdetails_wrong_user") else row

    @router.get("/userdetails/{user_id}", summary="The player's details (25 keys)")
    def userdetails(user_id: str) -> Any:
        def view(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
            row = first_player(conn, row)
            details: dict[str, Any] = {
                key: row[key]
                for key in (
                    "user_id", "username", "email", "first_name", "last_name", "title",
                    "address", "city", "postal_code", "country", "currency", "language",
                    "mobile", "mobile_prefix", "birth_date", "sex",
                )
            }  # fmt: skip
            details.update(
                is_blocked=bool(row["blocked"]),
                is_excluded=bool(row["excluded"]),
                roles=json.loads(row["roles"]),
                origin=settings.origin,
                registration_date=row["registration_date"],
                registration_code=row["registration_code"],
                affiliate_reference=row["affiliate_reference"],
                market=row["market"],
                verified_at=row["verified_at"],
            )
            if row["referred_by"]:  # FT's optional free object; only when there is something
                details["segmentation"] = {"referred_by": row["referred_by"]}
            if settings.has("userdetails_missing_field"):
                del details["market"]
            if settings.has("userdetails_wrong_type"):
                details["is_blocked"] = str(details["is_blocked"]).lower()
            return details

        return lookup(user_id, view)

    @router.get("/userconsents/{user_id}", summary="All six consents")
    def userconsents(user_id: str) -> Any:
        def view(conn: sqlite3.Connection, _: sqlite3.Row) -> dict[str, Any]:
            rows = dict(
                conn.execute(
                    "SELECT type, opted_in FROM consents WHERE user_id = ?", (user_id,)
                ).fetchall()
            )
            kinds = (
                [k for k in CONSENT_TYPES if k != "pushNotification"]
                if settings.has("consents_missing_type")
                else list(CONSENT_TYPES)
            )
            return {"consents": [{"opted_in": bool(rows.get(k, 0)), "type": k} for k in kinds]}

        return lookup(user_id, view)

    def set_consents(user_id: str, changes: dict[str, bool]) -> None:
        lookup(user_id, lambda _c, _r: None)
        if settings.has("consents_post_noop"):
            return  # answers Success, changes nothing
        if settings.has("consents_post_changes_all"):  # "unsubscribe" taken as from everything
            changes = dict.fromkeys(CONSENT_TYPES, next(iter(changes.values())))
        if settings.has("consents_post_toggles"):  # ignores the value sent: flips what it holds
            with platform.db.read() as conn:
                held = dict(
                    conn.execute(
                        "SELECT type, opted_in FROM consents WHERE user_id = ?", (user_id,)
                    ).fetchall()
                )
            changes = {kind: not held.get(kind, 0) for kind in changes}
        users = [user_id]
        if settings.has("consents_post_other_users"):  # the WHERE clause forgot the user
            with platform.db.read() as conn:
                users = [r[0] for r in conn.execute("SELECT user_id FROM players").fetchall()]
        publish = not settings.has("consents_change_not_published")
        for user in users:
            players.set_consents(platform, user, changes, publish=publish)

    summary = "FT's unsubscribe (publishes USER_CONSENTS_V2)"
    if settings.has("refused_request_changes_state"):

        @router.post("/userconsents/{user_id}", summary=summary)
        async def change_consents_as_checked(user_id: str, request: Request) -> Any:
            try:
                body = await request.json()
            except ValueError:
                raise HTTPException(400, {"error": "not JSON", "code": 400}) from None
            apply_item_by_item(body, lambda changes: set_consents(user_id, changes))
            return {"data": "Success"}

    elif settings.has("consents_unknown_type_accepted"):

        @router.post("/userconsents/{user_id}", summary=summary)
        def change_known_consents(user_id: str, body: LaxConsentChange) -> Any:
            changes = {c.type: c.opted_in for c in body.consents if c.type in CONSENT_TYPES}
            if changes:
                set_consents(user_id, changes)
            return {"data": "Success"}

    else:

        @router.post("/userconsents/{user_id}", summary=summary)
        def change_consents(user_id: str, body: ConsentChange) -> Any:
            if isinstance(body.consents, UkgcConsent):
                changes: dict[str, bool] = {body.consents.channel: body.consents.opted_in}
            else:
                changes = {c.type: c.opted_in for c in body.consents}
            set_consents(user_id, changes)
            return {"data": "Success"}

    @router.get("/userblocks/{user_id}", summary="Exactly two blocks: Excluded and Blocked")
    def userblocks(user_id: str) -> Any:
        def view(_: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
            blocks = [
                {"active": bool(row["excluded"]), "type": "Excluded", "note": row["excluded_note"]},
                {"active": bool(row["blocked"]), "type": "Blocked", "note": row["blocked_note"]},
            ]
            return {"blocks": blocks[1:] if settings.has("blocks_wrong_shape") else blocks}

        return lookup(user_id, view)

    stale: dict[str, Any] = {}  # the `reconciliation_stale` defect's cache

    @router.post("/reconciliation", summary="User ids for which `field` is true")
    def reconciliation(body: Reconciliation) -> Any:
        if settings.has("reconciliation_stale") and body.field in stale:
            return stale[body.field]
        condition = RECONCILIATION_FIELDS.get(body.field)
        if condition is None:
            detail = f"unknown field {body.field!r}; known: {', '.join(RECONCILIATION_FIELDS)}"
            return JSONResponse({"error": detail, "code": 501}, status_code=501)
        if settings.has("reconciliation_inconsistent"):
            condition = f"NOT ({condition})"
        with platform.db.read() as conn:
            rows = conn.execute(
                f"SELECT p.user_id FROM players p WHERE {condition} ORDER BY p.user_id"  # noqa: S608 - fixed conditions
            ).fetchall()
        stale[body.field] = {"users": [r[0] for r in rows], "timestamp": ft_timestamp()}
        return stale[body.field]

    @router.post("/authenticate", summary="Validate a session id (sid)")
    def authenticate(body: Authenticate) -> Any:
        with platform.db.read() as conn:
            row = conn.execute(
                "SELECT s.user_id, p.rowid FROM sessions s JOIN players p USING (user_id) "
                "WHERE s.sid = ?",
                (body.sid,),
            ).fetchone()
        if row is None:
            return JSONResponse({"error": "unknown or expired sid", "code": 401}, status_code=401)
        if settings.has("authenticate_internal_id"):
            return {"user_id": row[1]}  # the platform's row id, not FT's user_id
        user_id: str = row[0]
        return {"user_id": int(user_id) if user_id.isdigit() else user_id}

    @router.get("/bonus/list", summary="Bonuses for FT's dynamic dropdown")
    def bonus_list() -> Any:
        data = [{"text": v[1], "value": code} for code, v in money.BONUS_CATALOGUE.items()]
        if settings.has("bonus_list_retired_code"):
            data.append(_RETIRED_CODE)
        return {"Data": data, "Success": True, "Errors": []}

    @router.post("/bonus/credit", summary="Credit a bonus (idempotent on X-Fasttrack-Id)")
    def bonus_credit(body: BonusCredit, request: Request) -> Any:
        return _credit(body, request, funds=None)

    @router.post("/bonus/credit/funds", summary="Credit cash now (idempotent on X-Fasttrack-Id)")
    def bonus_credit_funds(body: FundsCredit, request: Request) -> Any:
        if body.amount < 0 and not settings.has("funds_negative_amount_accepted"):
            error = f"amount must be >= 0, got {body.amount:g}"
            return JSONResponse({"error": error, "code": 400}, status_code=400)
        if settings.has("funds_amount_truncated"):
            return _credit(body, request, funds=float(int(body.amount)))
        return _credit(body, request, funds=body.amount)

    def _credit(body: BonusCredit, request: Request, funds: float | None) -> Any:
        lookup(body.user_id, lambda _c, _r: None)
        if body.bonus_code not in money.BONUS_CATALOGUE:
            detail = f"unknown bonus_code {body.bonus_code!r}; GET /bonus/list names them"
            return JSONResponse({"error": detail, "code": 400}, status_code=400)
        if funds is None and settings.has("bonus_credit_noop"):
            return {"data": "Success", "user_bonus_id": platform.new_id("ub"), "duplicate": False}
        ft_id = fasttrack_id(request)
        references = fasttrack_references(request) or None
        if settings.has("bonus_event_no_references"):
            references = None  # stored nowhere, so no BONUS event can echo them
        if settings.has("bonus_credit_not_idempotent"):
            ft_id = None  # forgets which trigger it served, so a repeat credits again
        try:
            user_bonus_id = money.grant_bonus(
                platform,
                body.user_id,
                body.bonus_code,
                funds if funds is not None else 10.0,
                fasttrack_id=ft_id,
                references=references,
            )
        except sqlite3.IntegrityError:  # this X-Fasttrack-Id was served before: same answer
            with platform.db.read() as conn:
                seen = conn.execute(
                    "SELECT user_bonus_id FROM bonuses WHERE fasttrack_id = ?", (ft_id,)
                ).fetchone()
            return {"data": "Success", "user_bonus_id": seen[0], "duplicate": True}
        if funds is not None:  # cash now: the bonus completes at once and turns real
            money.bonus_transition(platform, user_bonus_id, "claim")
            money.bonus_transition(platform, user_bonus_id, "complete")
        return {"data": "Success", "user_bonus_id": user_bonus_id, "duplicate": False}

    return router
