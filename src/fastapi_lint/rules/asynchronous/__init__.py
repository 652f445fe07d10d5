"""Async (FAPI2xx): work that blocks the event loop, and coroutines that never run."""
