"""The Bridge: per-device API keys, the device API the reference uploader calls, patient
matching and the clinic's inbox of unassigned captures (docs/adr/1001-bridge-devices.md)."""
