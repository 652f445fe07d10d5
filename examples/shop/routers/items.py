"""Catalogue endpoints: browse and manage the shop's items."""

from fastapi import APIRouter, Depends, HTTPException, status

from ..dependencies import (
    get_reserved_units,
    get_stock_level,
    get_stock_level_async,
    throttle_scrapers,
)
from ..schemas import Item, ItemCreate

router = APIRouter(prefix="/items", tags=["items"], dependencies=[Depends(throttle_scrapers)])

_ITEMS: dict[int, Item] = {1: Item(id=1, name="Coffee mug", price_cents=1200, stock=30)}


def _get_or_404(item_id: int) -> Item:
    if item_id not in _ITEMS:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Item not found")
    return _ITEMS[item_id]


# FAPI101: no response_model= and no return annotation, the stored dict leaks as is
@router.get("/{item_id}/raw")
async def read_item_raw(item_id: int):
    """Return one item exactly as it is stored."""
    return _get_or_404(item_id).model_dump()


# Clean: the return annotation is the response model
@router.get("/{item_id}")
async def read_item(item_id: int) -> Item:
    """Return one item, or 404 when it does not exist."""
    return _get_or_404(item_id)


# Clean: response_model= declares the response shape
@router.get("", response_model=list[Item])
async def list_items():
    """List every item in the catalogue."""
    return list(_ITEMS.values())


# FAPI102: a POST that creates something answers 200 instead of 201
@router.post("/drafts")
async def create_draft(payload: ItemCreate) -> Item:
    """Save an item that is not published yet."""
    item = Item(id=len(_ITEMS) + 1, **payload.model_dump())
    _ITEMS[item.id] = item
    return item


# Clean: status_code=201 is written out
@router.post("", status_code=status.HTTP_201_CREATED)
async def create_item(payload: ItemCreate) -> Item:
    """Add an item to the catalogue."""
    item = Item(id=len(_ITEMS) + 1, **payload.model_dump())
    _ITEMS[item.id] = item
    return item


# Clean: a DELETE that returns nothing answers 204
@router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_item(item_id: int) -> None:
    """Remove an item from the catalogue."""
    _ITEMS.pop(_get_or_404(item_id).id)


# FAPI401: no docstring and no description=, /docs shows nothing
@router.get("/{item_id}/stock")
async def read_stock(units: int = Depends(get_stock_level)) -> dict[str, int]:
    return {"units": units}


# Clean: description= documents the route in OpenAPI
@router.get("/{item_id}/availability", description="Units that can still be ordered.")
async def read_availability(
    on_shelf: int = Depends(get_stock_level_async),
    reserved: int = Depends(get_reserved_units),
) -> dict[str, int]:
    return {"units": on_shelf - reserved}


# FAPI105: the exception is returned, so the client gets 200 with the error as the body
@router.get("/{item_id}/price")
async def read_price(item_id: int) -> dict[str, int]:
    """Return the price of one item in cents."""
    if item_id not in _ITEMS:
        return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Item not found")
    return {"price_cents": _ITEMS[item_id].price_cents}


# Clean: `_get_or_404` raises the HTTPException, so the client gets a 404
@router.get("/{item_id}/name")
async def read_name(item_id: int) -> dict[str, str]:
    """Return the display name of one item."""
    return {"name": _get_or_404(item_id).name}


# FAPI103: `/{item_id}` above takes `GET /items/featured` first (with item_id="featured",
# a 422), so this route is never reached
@router.get("/featured")
async def featured_items() -> list[Item]:
    """The items shown on the front page."""
    return list(_ITEMS.values())[:3]
