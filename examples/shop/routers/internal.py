"""Maintenance endpoints for the operations team, not part of the public API."""

from fastapi import APIRouter, status

from .items import _ITEMS
from .orders import _ORDERS

router = APIRouter(tags=["internal"])


# Clean: documented, annotated, explicit status code; hidden where main.py includes it
@router.get("/stats")
async def read_stats() -> dict[str, int]:
    """Count the items and orders held in memory."""
    return {"items": len(_ITEMS), "orders": len(_ORDERS)}


@router.post("/orders/purge", status_code=status.HTTP_204_NO_CONTENT)
async def purge_orders() -> None:
    """Forget every order (test environments only)."""
    _ORDERS.clear()
