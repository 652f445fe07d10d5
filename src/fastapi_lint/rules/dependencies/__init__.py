"""Dependencies and app lifecycle (FAPI6xx): `Depends`, yield dependencies, startup and shutdown."""
