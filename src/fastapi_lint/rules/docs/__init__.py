"""Documentation and OpenAPI (FAPI4xx)."""
