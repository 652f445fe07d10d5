"""Request and response models."""

from pydantic import BaseModel, Field


class ItemCreate(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    price_cents: int = Field(gt=0)


class Item(ItemCreate):
    id: int
    stock: int = 0


class OrderCreate(BaseModel):
    item_id: int
    quantity: int = Field(default=1, gt=0)


class Order(OrderCreate):
    id: int
    status: str = "pending"
