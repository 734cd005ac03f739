"""Players: registration, login, profile, consents, blocks and self-exclusion."""

from __future__ import annotations

import json
import uuid
from typing import Any

from reference_operator.errors import Conflict, NotFound
from reference_operator.ft.events import ft_timestamp
from reference_operator.platform.core import CONSENT_TYPES, Platform

__all__ = [
    "PROFILE_FIELDS",
    "login",
    "publish_custom",
    "register",
    "set_block",
    "set_consents",
    "update_profile",
]

# What a player (or back office) may change after registration; each change is a USER_UPDATE_V2.
PROFILE_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "title",
    "address",
    "city",
    "postal_code",
    "country",
    "language",
    "mobile",
    "mobile_prefix",
    "birth_date",
    "sex",
    "roles",
    "market",
    "verified_at",
)


def _fake_player(platform: Platform) -> dict[str, Any]:
    fake = platform.faker
    sex = fake.random_element(("male", "female"))
    first = fake.first_name_male() if sex == "male" else fake.first_name_female()
    last = fake.last_name()
    return {
        "username": f"{first}.{last}{fake.random_int(10, 99)}".lower(),
        "email": f"{first}.{last}@{fake.free_email_domain()}".lower(),
        "first_name": first,
        "last_name": last,
        "title": "Mr" if sex == "male" else "Ms",
        "address": fake.street_address(),
        "city": fake.city(),
        "postal_code": fake.postcode(),
        "country": "MT",
        "language": "en",
        "mobile": str(fake.random_int(20_000_000, 99_999_999)),
        "mobile_prefix": "+356",
        "birth_date": fake.date_of_birth(minimum_age=18, maximum_age=80).isoformat(),
        "sex": sex,
        "roles": [],
        "market": "mt",
        "verified_at": "",
    }


def register(platform: Platform, data: dict[str, Any]) -> str:
    """Create a player (Faker fills what `data` leaves out); publishes USER_CREATE_V2."""
    player = {**_fake_player(platform), **{k: v for k, v in data.items() if v is not None}}
    consents = player.pop("consents", None) or {}
    with platform.change() as (conn, emit):
        user_id = str(player.pop("user_id", "") or "") or str(
            conn.execute(
                "SELECT COALESCE(MAX(CAST(user_id AS INTEGER)), 100000) + 1 FROM players"
            ).fetchone()[0]
        )
        if conn.execute("SELECT 1 FROM players WHERE user_id = ?", (user_id,)).fetchone():
            msg = f"player {user_id!r} already exists; leave user_id out to get a new one"
            raise Conflict(msg)
        referrer = player.get("referred_by")
        if (
            referrer is not None
            and not conn.execute("SELECT 1 FROM players WHERE user_id = ?", (referrer,)).fetchone()
        ):
            msg = f"referred_by {referrer!r} is not a player; name an existing user_id"
            raise NotFound(msg)
        row = {
            **player,
            "user_id": user_id,
            "currency": platform.settings.currency,
            "roles": json.dumps(player["roles"]),
            "registration_date": ft_timestamp(),
            "registration_code": player.get("registration_code", ""),
            "affiliate_reference": player.get("affiliate_reference", ""),
        }
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f"INSERT INTO players ({columns}) VALUES ({marks})", tuple(row.values()))  # noqa: S608 - names are ours
        conn.executemany(
            "INSERT INTO consents (user_id, type, opted_in) VALUES (?, ?, ?)",
            [(user_id, kind, int(consents.get(kind, True))) for kind in CONSENT_TYPES],
        )
        emit("USER_CREATE_V2", user_id, ip_address="127.0.0.1", user_agent="reference-operator")
    return user_id


def login(platform: Platform, user_id: str, ip_address: str = "127.0.0.1") -> str:
    """Start a session; publishes LOGIN_V2 and returns the session id (`sid`)."""
    sid = str(uuid.uuid4())
    with platform.change() as (conn, emit):
        platform.player(conn, user_id)
        conn.execute(
            "INSERT INTO sessions (sid, user_id, created_at) VALUES (?, ?, ?)",
            (sid, user_id, ft_timestamp()),
        )
        emit(
            "LOGIN_V2",
            user_id,
            ip_address=ip_address,
            user_agent="reference-operator",
            is_impersonated=False,
        )
    return sid


def update_profile(platform: Platform, user_id: str, changes: dict[str, Any]) -> None:
    """Change profile fields; publishes USER_UPDATE_V2 (FT then re-reads /userdetails)."""
    values = {k: json.dumps(v) if k == "roles" else v for k, v in changes.items()}
    with platform.change() as (conn, emit):
        platform.player(conn, user_id)
        if values:
            assignments = ", ".join(f"{name} = ?" for name in values)
            conn.execute(
                f"UPDATE players SET {assignments} WHERE user_id = ?",  # noqa: S608 - names are ours
                (*values.values(), user_id),
            )
        emit("USER_UPDATE_V2", user_id)


def set_consents(
    platform: Platform, user_id: str, consents: dict[str, bool], *, publish: bool = True
) -> None:
    """Opt in or out of channels; publishes USER_CONSENTS_V2 (FT re-reads /userconsents).

    `publish=False` is the `consents_change_not_published` defect.
    """
    with platform.change() as (conn, emit):
        platform.player(conn, user_id)
        conn.executemany(
            "UPDATE consents SET opted_in = ? WHERE user_id = ? AND type = ?",
            [(int(opted_in), user_id, kind) for kind, opted_in in consents.items()],
        )
        if publish:
            emit("USER_CONSENTS_V2", user_id)


def set_block(platform: Platform, user_id: str, kind: str, active: bool, note: str) -> None:
    """Block (`Blocked`) or self-exclude (`Excluded`); publishes USER_BLOCK_V2."""
    column = "blocked" if kind == "Blocked" else "excluded"
    with platform.change() as (conn, emit):
        platform.player(conn, user_id)
        conn.execute(
            f"UPDATE players SET {column} = ?, {column}_note = ? WHERE user_id = ?",  # noqa: S608
            (int(active), note, user_id),
        )
        emit("USER_BLOCK_V2", user_id)


def publish_custom(
    platform: Platform, user_id: str, notification_type: str, data: dict[str, str]
) -> None:
    """Something the player did that FT has no event for (e.g. a chat request); publishes CUSTOM."""
    with platform.change() as (conn, emit):
        platform.player(conn, user_id)
        emit("CUSTOM", user_id, notification_type=notification_type, data=data)
