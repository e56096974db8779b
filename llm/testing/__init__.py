"""Test support shipped with the gateway: the scripted model's fixture and an
OpenAI-compatible stub server (used by tests and benchmarks)."""
