"""The embedded OQS simulator: one implementation of the contract (integrations/oqs/interface.py)
over a synthetic population, its histories derived on read from each person's seed."""
