"""HTTP routers of the Tiny Shop API."""
