"""Rules: crypto."""
