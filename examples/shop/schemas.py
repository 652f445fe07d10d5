"""Request and response models."""

from pydantic import BaseModel, ConfigDict, Field


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


# FAPI501: a Pydantic v1 `class Config`; v2 ignores `orm_mode`
class ItemRow(BaseModel):
    id: int
    name: str

    class Config:
        orm_mode = True


# Clean: the v2 way to read attributes from ORM objects
class OrderRow(BaseModel):
    id: int
    status: str

    model_config = ConfigDict(from_attributes=True)


class ReviewCreate(BaseModel):
    stars: int = Field(ge=1, le=5)
    comment: str = Field(default="", max_length=2000)


class Review(ReviewCreate):
    id: int
    item_id: int
