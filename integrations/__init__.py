"""One package per external system (OQS, the card authority), each behind an interface."""
