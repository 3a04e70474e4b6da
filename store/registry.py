"""Import every module that defines tables, so Base.metadata is complete (Alembic, tests)."""
from __future__ import annotations

import importlib

from store.base import Base

# Each area owns its tables; add a module here when it defines new ones.
MODEL_MODULES = [
    "store.models",
    "consent.institutions",
    "integrations.oqs.models",
    "integrations.card.models",
    "consent.webauthn",
    "consent.models",
    "consent.oauth_models",
    "consent.staff_passkeys",
    "consent.security_log",
    "consent.disasters",
    "consent.patient_keys",
    "consent.events",
    "consent.webhooks",
]


def load_all_models():
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Areas not built yet simply have no tables.
            if not exc.name or not name.startswith(exc.name):
                raise
    return Base.metadata
