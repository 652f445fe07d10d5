"""Order endpoints: place, return and export orders."""

from fastapi import APIRouter as Router
from fastapi import Depends, status
from fastapi.responses import PlainTextResponse

from ..dependencies import slow_down_scrapers
from ..schemas import Order, OrderCreate

router = Router(prefix="/orders", tags=["orders"], dependencies=[Depends(slow_down_scrapers)])

_ORDERS: dict[int, Order] = {}


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


# FAPI201: blocking call on the event loop (open() reads the disk inside async def)
@router.get("/{order_id}/invoice", response_class=PlainTextResponse)
async def download_invoice(order_id: int) -> str:
    """Return the order's invoice as plain text."""
    with open(f"invoices/{order_id}.txt") as invoice:
        return invoice.read()


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
