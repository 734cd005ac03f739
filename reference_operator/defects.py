"""Defect switches: ways to break the operator on purpose, to prove the harness catches them.

Off by default: the reference operator is a correct integration unless told otherwise.
"""

from __future__ import annotations

__all__ = ["DEFECTS"]

DEFECTS: dict[str, str] = {
    "userdetails_missing_field": "GET /userdetails omits the required `market` key.",
    "userdetails_wrong_type": 'GET /userdetails sends `is_blocked` as the string "false".',
    "consents_missing_type": "GET /userconsents leaves out the pushNotification consent.",
    "blocks_wrong_shape": "GET /userblocks sends only the Blocked entry, not exactly two.",
    "unknown_user_200": "An unknown user answers 200 with an empty object instead of 404.",
    "no_auth": "The Operator API accepts any request, with or without credentials.",
    "slow_lookups": "Every Operator API call takes about 1.5 s.",
    "reconciliation_inconsistent": "POST /reconciliation lists users whose field is false.",
    "bonus_credit_not_idempotent": "A repeated X-Fasttrack-Id credits the bonus (or funds) again.",
    "consents_post_toggles": "POST /userconsents flips the consents it names: a repeat undoes it.",
    "tokens_never_expire": "OAuth2 access tokens are accepted past their lifetime.",
    "abandoned_calls_lock_user": "A call FT gives up on leaves its user locked (later calls: 503).",
    "events_missing_field": "Published events lack the schema-required `origin`.",
    "events_wrong_enum_case": "Published enum values are lower-case (`approved`).",
    "no_retry": "A publish that FT does not answer 200 is given up after one attempt.",
    "ignores_retry_after": "Retries follow the own back-off, whatever Retry-After FT sends.",
    "no_backoff": "A failed publish is retried at once, again and again, without back-off.",
    "duplicate_events": "Every event is published twice.",
    "late_events": "Every event is published 2 s after it happened.",
    "drops_events": "About 10% of events are never published.",
    "cancel_bonus_noop": (
        "POST /callbacks/bonus/cancel answers 200 but cancels nothing and publishes nothing."
    ),
    "loyalty_receiver_500": "POST /callbacks/loyalty always answers 500.",
}
