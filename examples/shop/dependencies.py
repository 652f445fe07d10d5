"""Dependencies shared by the routers: warehouse lookups and request throttling."""

import asyncio
import time

import httpx
import requests
from fastapi import Header

WAREHOUSE_URL = "https://warehouse.internal.example.com"


# FAPI201: blocking call on the event loop (requests.get inside an async dependency)
async def get_stock_level(item_id: int) -> int:
    """Ask the warehouse how many units of an item are on the shelf."""
    response = requests.get(f"{WAREHOUSE_URL}/stock/{item_id}", timeout=5)
    response.raise_for_status()
    return response.json()["units"]


# Clean: httpx.AsyncClient awaits the request and leaves the event loop free
async def get_stock_level_async(item_id: int) -> int:
    """Ask the warehouse how many units of an item are on the shelf."""
    async with httpx.AsyncClient(base_url=WAREHOUSE_URL, timeout=5) as client:
        response = await client.get(f"/stock/{item_id}")
    response.raise_for_status()
    return response.json()["units"]


# Clean: the blocking client runs in a worker thread via asyncio.to_thread
async def get_reserved_units(item_id: int) -> int:
    """Units of an item already reserved by open orders."""
    response = await asyncio.to_thread(
        requests.get, f"{WAREHOUSE_URL}/reserved/{item_id}", timeout=5
    )
    return response.json()["units"]


# FAPI201: blocking call on the event loop (time.sleep stalls every request)
async def slow_down_scrapers(user_agent: str = Header(default="")) -> None:
    """Delay requests coming from known scrapers."""
    if "scraper" in user_agent.lower():
        time.sleep(0.5)


# Clean: asyncio.sleep suspends only this request
async def throttle_scrapers(user_agent: str = Header(default="")) -> None:
    """Delay requests coming from known scrapers."""
    if "scraper" in user_agent.lower():
        await asyncio.sleep(0.5)
