"""fastapi-lint: the review a senior FastAPI engineer would give, as a linter."""

__version__ = "0.1.0"
