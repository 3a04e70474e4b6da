"""A software card for tests and benchmarks: signs WebAuthn assertions like an NFC card would.

Browser tests use Chromium's virtual authenticator instead; this one lets server-side tests
provoke what a browser cannot (a foreign origin, a wrong rpId) and lets benchmarks sign fast.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url


@dataclass
class SoftCard:
    credential_id: bytes
    user_handle: bytes
    private_key: ec.EllipticCurvePrivateKey
    sign_count: int = 0

    @classmethod
    def from_sandbox(cls, card: dict) -> "SoftCard":
        """From the JSON `POST /sandbox/cards` returns."""
        import base64

        key = serialization.load_der_private_key(base64.b64decode(card["private_key"]), password=None)
        return cls(
            credential_id=base64url_to_bytes(card["credential_id"]),
            user_handle=base64url_to_bytes(card["user_handle"]),
            private_key=key,
            sign_count=card.get("sign_count", 0),
        )

    def assertion(
        self,
        options: dict,
        *,
        origin: str,
        rp_id: str | None = None,
        user_verified: bool = True,
        user_present: bool = True,
        backup_eligible: bool = False,
        sign_count: int | None = None,
        bogus_signature: bool = False,
        cross_origin: bool = False,
    ) -> dict:
        """The credential JSON (as the browser's `credential.toJSON()` gives) for `options`."""
        if sign_count is None:
            self.sign_count += 1
            sign_count = self.sign_count
        client_data = json.dumps(
            {"type": "webauthn.get", "challenge": options["challenge"], "origin": origin,
             "crossOrigin": cross_origin},
            separators=(",", ":"),
        ).encode()
        flags = (0x01 if user_present else 0) | (0x04 if user_verified else 0) | (0x08 if backup_eligible else 0)
        auth_data = (
            hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
            + bytes([flags])
            + sign_count.to_bytes(4, "big")
        )
        signature = self.private_key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        if bogus_signature:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        return {
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": bytes_to_base64url(self.user_handle),
            },
        }
