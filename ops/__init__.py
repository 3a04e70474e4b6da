"""Operator and developer commands (migrations, demo data)."""
