"""Inventory: consumables, their stock as an append-only ledger of movements, low-stock
alerts and what expires soon."""
