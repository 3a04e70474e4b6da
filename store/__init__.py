"""Storage plumbing shared by every part of the service: engine, base model, migrations."""
