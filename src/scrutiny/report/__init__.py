"""Renderers and the review composer."""
