"""Observability (FAPI7xx): how routes and dependencies report what they do."""
