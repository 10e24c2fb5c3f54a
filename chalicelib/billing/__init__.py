"""Billing: treatment catalog, VAT types, budgets, invoices and payments (issue 5)."""
