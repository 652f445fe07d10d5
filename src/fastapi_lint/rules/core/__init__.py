"""The linter's own findings about suppressions (FAPI0xx)."""
