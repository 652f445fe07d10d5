"""Tiny Shop: a small FastAPI application used to demonstrate fastapi-lint."""
