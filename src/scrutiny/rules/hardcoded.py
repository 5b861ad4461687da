"""Rules: hardcoded."""
