"""Live notifications: a clinic's domain events pushed to its open staff screens over a
WebSocket (docs/adr/1101-live-notifications.md)."""
