"""Pydantic v1 idioms in v2 code (FAPI5xx)."""
