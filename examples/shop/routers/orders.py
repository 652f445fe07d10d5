"""Order endpoints: place, return and export orders."""

import requests
from fastapi import APIRouter as Router
from fastapi import Depends, status
from fastapi.responses import PlainTextResponse

from ..dependencies import slow_down_scrapers
from ..schemas import Order, OrderCreate

router = Router(prefix="/orders", tags=["orders"], dependencies=[Depends(slow_down_scrapers)])

_ORDERS: dict[int, Order] = {}
BILLING_URL = "http://billing.internal"


# FAPI102: api_route creating something (a return) with the default 200, not 201
@router.api_route("/{order_id}/returns", methods=["POST"])
async def create_return(order_id: int) -> Order:
    """Open a return for a delivered order and mark the order as returned."""
    order = _ORDERS[order_id]
    order.status = "returned"
    return order


# Clean: api_route answering POST with status_code=201
@router.api_route("", methods=["POST"], status_code=status.HTTP_201_CREATED)
async def place_order(payload: OrderCreate) -> Order:
    """Place an order for one item."""
    order = Order(id=len(_ORDERS) + 1, **payload.model_dump())
    _ORDERS[order.id] = order
    return order


def _fetch_invoice(order_id: int) -> str:
    """Ask the billing service for the invoice text."""
    return requests.get(f"{BILLING_URL}/invoices/{order_id}", timeout=10).text


# FAPI202: the async route calls a sync helper that blocks (requests.get): the loop stalls
@router.get("/{order_id}/invoice", response_class=PlainTextResponse)
async def download_invoice(order_id: int) -> str:
    """Return the order's invoice as plain text."""
    return _fetch_invoice(order_id)


# Clean: a plain def runs in FastAPI's threadpool, so blocking I/O is fine
@router.get("/{order_id}/receipt", response_class=PlainTextResponse)
def download_receipt(order_id: int) -> str:
    """Return the order's receipt as plain text."""
    with open(f"receipts/{order_id}.txt") as receipt:
        return receipt.read()


def export_orders():
    """Export every order as a list of plain dicts for the accounting team."""
    return [order.model_dump() for order in _ORDERS.values()]


def list_orders() -> list[Order]:
    """List every order, newest first."""
    return sorted(_ORDERS.values(), key=lambda order: order.id, reverse=True)


# FAPI101: add_api_route to a handler without return annotation or response_model=
router.add_api_route("/export", export_orders, methods=["GET"])

# Clean: the handler's return annotation is the response model
router.add_api_route("", list_orders, methods=["GET"])


# FAPI104: `GET /orders/{order_id}/receipt` again, under another parameter name: the first
# registration (`download_receipt`) answers every request, this one is never called
@router.get("/{receipt_id}/receipt", response_class=PlainTextResponse)
def download_receipt_copy(receipt_id: int) -> str:
    """Return a copy of the order's receipt as plain text."""
    with open(f"receipts/copies/{receipt_id}.txt") as receipt:
        return receipt.read()


# Clean: one operation ID per operation
@router.get("/{order_id}/status", operation_id="read_order_status")
async def read_order_status(order_id: int) -> dict[str, str]:
    """Return where the order is in its delivery."""
    return {"status": _ORDERS[order_id].status}


# FAPI111: the operation ID of the route above again: generated API clients break
@router.get("/{order_id}/tracking", operation_id="read_order_status")
async def read_order_tracking(order_id: int) -> dict[str, str]:
    """Return the carrier's tracking number for the order."""
    return {"tracking": f"TRACK-{order_id}"}
