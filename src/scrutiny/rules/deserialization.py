"""Rules: deserialization."""
