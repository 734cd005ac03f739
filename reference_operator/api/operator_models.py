"""Operator API request bodies, as strict as FT's schemas; the reconciliation fields.

Strict types: FT sends JSON booleans and numbers, so `"false"` or `"1.5"` is refused rather than
coerced (a lenient parser would act on a body FT never sent). Unknown keys are tolerated on
credits, where FT may add configured fields.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

__all__ = [
    "RECONCILIATION_FIELDS",
    "Authenticate",
    "BonusCredit",
    "Consent",
    "ConsentChange",
    "FundsCredit",
    "LaxConsent",
    "LaxConsentChange",
    "Reconciliation",
    "UkgcConsent",
]

ConsentType = Literal[
    "email", "sms", "telephone", "postMail", "siteNotification", "pushNotification"
]
NonEmpty = Annotated[str, StringConstraints(min_length=1)]

# reconciliation field: SQL condition on players (p) that makes it true
RECONCILIATION_FIELDS = {
    "blocked": "p.blocked = 1",
    "excluded": "p.excluded = 1",
    **{
        f"consent_{snake}": f"EXISTS (SELECT 1 FROM consents c WHERE c.user_id = p.user_id "  # noqa: S608
        f"AND c.type = '{kind}' AND c.opted_in = 1)"
        for snake, kind in (
            ("email", "email"),
            ("sms", "sms"),
            ("telephone", "telephone"),
            ("post_mail", "postMail"),
            ("site_notification", "siteNotification"),
            ("push_notification", "pushNotification"),
        )
    },
}


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opted_in: StrictBool
    type: ConsentType
    products: list[str] = []


class UkgcConsent(BaseModel):
    channel: ConsentType
    opted_in: StrictBool
    products: list[str] = []


class ConsentChange(BaseModel):
    consents: Annotated[list[Consent], Field(min_length=1, max_length=6)] | UkgcConsent = Field(
        description="FT's list (1 to 6 items), or the UKGC object"
    )


class LaxConsent(BaseModel):
    """The `consents_unknown_type_accepted` defect: any type goes (and is then dropped)."""

    opted_in: StrictBool
    type: str


class LaxConsentChange(BaseModel):
    consents: Annotated[list[LaxConsent], Field(min_length=1, max_length=6)]


class Reconciliation(BaseModel):
    field: str


class Authenticate(BaseModel):
    sid: str


class BonusCredit(BaseModel):
    model_config = ConfigDict(extra="allow")  # FT may add configured fields (validity_amount)
    user_id: NonEmpty
    bonus_code: NonEmpty


class FundsCredit(BonusCredit):
    # The minimum 0 is checked by the route (the `funds_negative_amount_accepted` defect skips it).
    amount: float = Field(strict=True, allow_inf_nan=False)
    currency: str
