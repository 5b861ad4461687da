"""Rules: files and temporary files."""
