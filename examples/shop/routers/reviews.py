"""Review endpoints: customers rate the items they bought, moderators remove abuse.

This module only imports the shop's own `ShopRouter`: nothing here names the web
framework, yet every route below is one.
"""

import asyncio

from starlette.websockets import WebSocket

from ..routing import ShopRouter
from ..schemas import Review, ReviewCreate

router = ShopRouter(prefix="/reviews", tags=["reviews"])

_REVIEWS: list[Review] = []


# Clean: a router subclass declares routes like any router
@router.get("/{item_id}")
async def list_reviews(item_id: int) -> list[Review]:
    """List the reviews of one item, oldest first."""
    return [review for review in _REVIEWS if review.item_id == item_id]


# Clean: a POST that creates a review answers 201
@router.post("/{item_id}", status_code=201)
async def add_review(item_id: int, payload: ReviewCreate) -> Review:
    """Rate an item from 1 to 5 stars, with an optional comment."""
    review = Review(id=len(_REVIEWS) + 1, item_id=item_id, **payload.model_dump())
    _REVIEWS.append(review)
    return review


# Clean: a moderation route, served but kept out of the public OpenAPI schema
@router.delete("/{item_id}/{review_id}", status_code=204, include_in_schema=False)
async def remove_review(item_id: int, review_id: int) -> None:
    """Remove an abusive review (moderators only)."""
    for review in _REVIEWS:
        if review.item_id == item_id and review.id == review_id:
            _REVIEWS.remove(review)
            return
    raise router.not_found("Review")


# Clean: a websocket that pushes new reviews and awaits between checks
@router.websocket("/live")
async def live_reviews(websocket: WebSocket) -> None:
    """Push every new review to the connected client as it arrives."""
    await websocket.accept()
    sent = 0
    while True:
        for review in _REVIEWS[sent:]:
            await websocket.send_json(review.model_dump())
        sent = len(_REVIEWS)
        await asyncio.sleep(1)
