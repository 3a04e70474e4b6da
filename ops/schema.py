"""Every table of the service, so Base.metadata is complete: Alembic's comparison (tests) and
emptying a test database. Each area owns its tables; import the module here when it defines new ones.

It sits at the top (ops/) because it names modules of every layer; store/ below knows none of them.
The integrations' own tables come from integrations/registry.py, which names their implementations.
"""
from __future__ import annotations

from sqlalchemy import MetaData

import consent.disasters
import consent.events
import consent.institutions
import consent.models
import consent.oauth_models
import consent.patient_keys
import consent.security_log
import consent.staff_passkeys
import consent.webauthn
import consent.webhooks
import store.models
from integrations import registry
from store.base import Base

MODEL_MODULES = (
    store.models, consent.institutions, *registry.MODEL_MODULES, consent.webauthn, consent.models,
    consent.oauth_models, consent.staff_passkeys, consent.security_log, consent.disasters, consent.patient_keys,
    consent.events, consent.webhooks,
)


def load_all_models() -> MetaData:
    """The metadata of every table (the modules above are imported with this one)."""
    return Base.metadata
