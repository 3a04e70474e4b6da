"""The consent domain: grants, their windows, the read decision and the audit log. No Flask here."""
