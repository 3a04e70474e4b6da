"""The receivers of webhooks: other people's HTTP servers. `sender.send` POSTs one signed event;
`receiver` is a small verifying receiver for development (`python -m integrations.webhooks.receiver`)."""
