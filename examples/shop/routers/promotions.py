"""Promotion endpoints, written but never wired into the app."""

from fastapi import APIRouter

from ..schemas import Item

# FAPI112: no include_router(...) serves this router, so its routes answer 404
router = APIRouter(prefix="/promotions", tags=["promotions"])


@router.get("")
async def list_promotions() -> list[Item]:
    """Items on sale this week."""
    return []
