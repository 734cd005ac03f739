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
    # Kinds the first catalogue did not have (issue 21): writes that prove nothing, values that
    # should be refused, state that leaks or goes stale, slowness only under concurrency.
    "consents_post_noop": "POST /userconsents answers 200 but changes nothing.",
    "consents_post_changes_all": "POST /userconsents sets every consent type to the value sent.",
    "consents_post_other_users": "POST /userconsents changes that consent of every player.",
    "consents_unknown_type_accepted": "POST /userconsents accepts (and drops) unknown types.",
    "refused_request_changes_state": (
        "POST /userconsents applies each item before checking the next: a refused body changes "
        "the consents before it."
    ),
    "refusals_not_ft_shape": (
        'Refused Operator API bodies answer 422 {"detail": [...]}, not FT\'s {"error", "code"}.'
    ),
    "funds_negative_amount_accepted": "POST /bonus/credit/funds credits a negative amount.",
    "funds_amount_truncated": "POST /bonus/credit/funds credits the whole units only (1.37: 1).",
    "bonus_credit_noop": "POST /bonus/credit answers 200 but credits no bonus.",
    "bonus_list_retired_code": "GET /bonus/list also offers a code /bonus/credit refuses.",
    "reconciliation_stale": "POST /reconciliation answers from a cache never refreshed.",
    "userdetails_wrong_user": "GET /userdetails answers the first player's details for anyone.",
    "authenticate_internal_id": "POST /authenticate answers the player's internal row id.",
    "token_endpoint_any_secret": "The OAuth2 token endpoint issues tokens for any client secret.",
    "slow_under_concurrency": (
        "Operator API lookups take 0.75 s when another call is in flight (fast one at a time)."
    ),
    "consents_change_not_published": "A consent changed by FT is not published as an event.",
    "bonus_event_no_references": "BONUS events do not echo FT's X-Fasttrack-* headers.",
}
