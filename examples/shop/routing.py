"""The shop's own router class: an APIRouter with the helpers every shop router shares."""

from fastapi import APIRouter, HTTPException, status


class ShopRouter(APIRouter):
    """An `APIRouter` that also knows how the shop answers "not found".

    Routes are declared on it exactly as on any router (`@router.get(...)`), and it takes
    the same arguments (`prefix=`, `tags=`, ...).
    """

    def not_found(self, what: str) -> HTTPException:
        """The 404 a route raises when `what` does not exist."""
        return HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=f"{what} not found")
