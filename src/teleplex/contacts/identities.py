"""Identity kinds and their normal forms: the same person must produce the same (kind, value) on every
channel, or profiles split. Pure: no database, no settings."""

from __future__ import annotations

import re
from enum import StrEnum

import phonenumbers

from teleplex.core.errors import InvalidInput

DEFAULT_REGION = "US"  # Settings.phone_region's default; callers pass the configured one


class IdentityKind(StrEnum):
    PHONE = "phone"  # E.164 with "+": voice caller ids, SMS senders, WhatsApp numbers, shared phones
    WHATSAPP = "whatsapp"  # wa_id: the number without "+"
    WHATSAPP_BSUID = "whatsapp_bsuid"  # WhatsApp business-scoped user id (US.1349...), may come with no phone
    TELEGRAM = "telegram"  # from.id
    VISITOR = "visitor"  # a web chat visitor id (anonymous, per browser)
    VISITOR_VERIFIED = "visitor_verified"  # an identifier the site's backend vouched for (HMAC checked)
    EMAIL = "email"


# Names other capabilities already use for the same thing (messaging's peer_kind "whatsapp_user").
ALIASES = {"whatsapp_user": IdentityKind.WHATSAPP_BSUID}

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")
_BSUID = re.compile(r"^[A-Za-z0-9._:-]{1,200}$")
_OPAQUE = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
_PHONE_CHARS = re.compile(r"^[+0-9 ().\-/]{3,40}$")


class InvalidIdentity(InvalidInput):
    """A value that cannot be an identity of its kind (an impossible number, a malformed email)."""


def identity_kind(kind: str) -> IdentityKind:
    """The kind by name, accepting the aliases of other capabilities."""
    if kind in ALIASES:
        return ALIASES[kind]
    try:
        return IdentityKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in IdentityKind)
        raise InvalidIdentity(f"kind: unknown identity kind '{kind}'; use one of {allowed}",
                              {"field": "kind", "value": kind, "allowed": [k.value for k in IdentityKind]},
                              reason="identity_kind_unknown") from None  # fmt: skip


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a number as a caller id or a form gives it; None when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(kind: str | IdentityKind, value: str, region: str = DEFAULT_REGION) -> tuple[IdentityKind, str]:
    """The stored form of an identity, or InvalidIdentity saying why (field `value`)."""
    k = identity_kind(kind) if not isinstance(kind, IdentityKind) else kind
    v = value.strip() if isinstance(value, str) else ""
    out: str | None = None
    if k is IdentityKind.PHONE:
        out = normalise_phone(v, region) if _PHONE_CHARS.match(v) else None
    elif k is IdentityKind.WHATSAPP:
        e164 = normalise_phone("+" + v.lstrip("+"), region) if _PHONE_CHARS.match(v) else None
        out = e164[1:] if e164 else None
    elif k is IdentityKind.TELEGRAM:
        out = v if re.fullmatch(r"[0-9]{1,20}", v) else None
    elif k is IdentityKind.WHATSAPP_BSUID:
        out = v if _BSUID.match(v) else None
    elif k is IdentityKind.EMAIL:
        out = v.lower() if _EMAIL.match(v) and len(v) <= 200 else None
    else:  # visitor ids and verified identifiers are opaque, compared exactly
        out = v if _OPAQUE.match(v) else None
    if out is None:
        raise InvalidIdentity(f"value: '{value[:60]}' is not a valid {k.value} identity",
                              {"field": "value", "value": str(value)[:60], "identity_kind": k.value},
                              reason="identity_value_invalid")  # fmt: skip
    return k, out


def implied_phone(kind: IdentityKind, value: str) -> str | None:
    """The phone an identity proves by itself: a WhatsApp wa_id is the number."""
    return "+" + value if kind is IdentityKind.WHATSAPP else None


def provider_phone(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for a phone a provider hands over: often international without "+" (Telegram's shared
    contacts, WhatsApp's wa_id), so that reading wins when it is a valid number; else the national reading."""
    t = raw.strip()
    if not _PHONE_CHARS.match(t):
        return None
    if not t.startswith("+") and sum(c.isdigit() for c in t) >= 11:  # 10 digits is a national number
        try:
            number = phonenumbers.parse("+" + t, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return normalise_phone(t, region)


def search_phone(text: str, region: str = DEFAULT_REGION) -> str | None:
    """E.164 for search text that looks like a phone number typed any way ("(202) 555-0134", "+1 202..."),
    so a search finds the stored form; None for text that is not a number."""
    t = text.strip()
    if not _PHONE_CHARS.match(t) or sum(c.isdigit() for c in t) < 5:
        return None
    return normalise_phone(t, region)
