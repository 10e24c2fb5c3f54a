"""GDPR: a patient's data export (access, art. 15; portability, art. 20). ADR 1401."""
