"""Install a sandbox card into Chromium's virtual authenticator (CDP, transport nfc, UV on).

See e2e/README.md. CDP wants standard base64 (padded) for binary fields.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any


def b64url_to_b64(value: str) -> str:
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    return base64.b64encode(raw).decode()


@dataclass
class VirtualCard:
    """A card in a page's virtual NFC authenticator, with knobs for the failure paths."""

    cdp: Any
    authenticator_id: str
    card: dict
    person: dict = field(default_factory=dict)

    @property
    def card_id(self) -> str:
        return self.card["card_id"]

    def credential(self, sign_count: int | None = None) -> dict:
        return {
            "credentialId": b64url_to_b64(self.card["credential_id"]),
            "isResidentCredential": True,
            "rpId": self.card["rp_id"],
            "privateKey": self.card["private_key"],
            "userHandle": b64url_to_b64(self.card["user_handle"]),
            "signCount": self.card["sign_count"] if sign_count is None else sign_count,
        }

    def set_user_verified(self, verified: bool) -> None:
        """False: the PIN step fails (the page gets NotAllowedError)."""
        self.cdp.send("WebAuthn.setUserVerified",
                      {"authenticatorId": self.authenticator_id, "isUserVerified": verified})

    def never_answer(self) -> None:
        """The card is held wrong (or not at all): the authenticator never answers, and the page's
        card read waits until the patient stops it or the request times out."""
        self.cdp.send("WebAuthn.setAutomaticPresenceSimulation",
                      {"authenticatorId": self.authenticator_id, "enabled": False})

    def override_response(self, *, bogus_signature: bool = False, bad_uv: bool = False, bad_up: bool = False) -> None:
        self.cdp.send("WebAuthn.setResponseOverrideBits", {
            "authenticatorId": self.authenticator_id, "isBogusSignature": bogus_signature,
            "isBadUV": bad_uv, "isBadUP": bad_up,
        })

    def sign_count(self) -> int:
        creds = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})["credentials"]
        return creds[0]["signCount"] if creds else 0

    def reinstall(self, *, sign_count: int) -> None:
        """Put the same credential back with another counter (a regression looks like a clone)."""
        self.cdp.send("WebAuthn.clearCredentials", {"authenticatorId": self.authenticator_id})
        self.cdp.send("WebAuthn.addCredential",
                      {"authenticatorId": self.authenticator_id, "credential": self.credential(sign_count)})

    def set_backup_eligible(self) -> None:
        """Turn the credential into a synced passkey look-alike (BE and BS flags set)."""
        self.cdp.send("WebAuthn.setCredentialProperties", {
            "authenticatorId": self.authenticator_id,
            "credentialId": b64url_to_b64(self.card["credential_id"]),
            "backupEligibility": True, "backupState": True,
        })

    def remove(self) -> None:
        try:
            self.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id})
            self.cdp.send("WebAuthn.disable")
        except Exception:  # the page may already be closed at teardown
            pass
        try:
            # A CDP session left attached was seen to hang the page's close (tablet tests).
            self.cdp.detach()
        except Exception:
            pass


def install_card(page, card: dict, *, person: dict | None = None, user_verified: bool = True,
                 pin: bool = True) -> VirtualCard:
    """Attach an NFC virtual authenticator to `page` and put the sandbox `card` in it.

    `pin` False: a card read without its PIN (no user verification at all: the patient who forgot
    it). Only the tablet's photo check (目視確認) accepts such a read; every other read asks for
    the PIN, and Chromium then answers NotAllowedError. Call before the page asks for the card;
    it survives page.goto().
    """
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "nfc", "hasResidentKey": True,
        "hasUserVerification": pin, "isUserVerified": user_verified and pin,
        "automaticPresenceSimulation": True,
    }})["authenticatorId"]
    virtual = VirtualCard(cdp=cdp, authenticator_id=authenticator_id, card=card, person=person or {})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator_id, "credential": virtual.credential()})
    return virtual
