"""Python client for the mynareception pharmacy-system API (README.md in clients/python/).

    from mynareception_client import Client
    with Client.client_credentials("http://localhost:5000", "demo-system", "demo-system-secret") as api:
        for consent in api.consents():
            print(consent.person.name, consent.window_end)
"""
from mynareception_client import models
from mynareception_client._decode import decode
from mynareception_client.auth import AuthorizationCodeFlow, LoopbackRedirect, authorize_in_browser
from mynareception_client.client import Client, ConsentList, EventPage, EventStream, retry_after_seconds
from mynareception_client.errors import (
    ApiError, CursorExpired, MynaReceptionError, OAuthError, RateLimited, WebhookVerificationError,
)
from mynareception_client.models import Consent, Event
from mynareception_client.webhooks import serve_webhooks, verify_webhook, webhook_app

__version__ = "0.1.0"
__all__ = [
    "ApiError", "AuthorizationCodeFlow", "Client", "Consent", "ConsentList", "CursorExpired", "Event", "EventPage",
    "EventStream", "LoopbackRedirect", "MynaReceptionError", "OAuthError", "RateLimited", "WebhookVerificationError",
    "authorize_in_browser", "decode", "models", "retry_after_seconds", "serve_webhooks", "verify_webhook",
    "webhook_app",
]
