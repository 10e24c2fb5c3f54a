"""Reading the audit log (writing it is ``chalicelib.core.audit``)."""
