"""The practice in numbers: per-clinic, per-day figures kept by consumers of the domain events
(production, invoiced and collected, chair utilisation, attendance, new patients, budgets), the
state figures (outstanding balances, pending budgets), the lists behind each figure, their CSV
exports, and the rebuild of the figures from the records."""
