"""Recalls and follow-ups: recall rules, each patient's recalls, the front desk's due and
follow-up lists, and the daily reminder job (issue 19, ADR 1404)."""
