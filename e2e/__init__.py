"""Browser tests and the pytest fixtures QA teams can reuse (`pytest -p e2e.fixtures`)."""
