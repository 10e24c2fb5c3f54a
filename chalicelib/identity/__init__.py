"""Clinics, staff and sessions: sign-up, login, refresh-token rotation, memberships,
invitations and per-clinic role templates."""
