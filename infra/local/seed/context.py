from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.core.api import Principal

DEMO_PASSWORD = "cuspide-demo"  # noqa: S105 - the documented demo login of the local stack


@dataclass
class DemoContext:
    """What later seeders build on: the demo clinics and a principal per role."""

    demo_clinic_id: str
    norte_clinic_id: str
    demo: dict[str, Principal] = field(default_factory=dict)  # role -> principal
    norte: dict[str, Principal] = field(default_factory=dict)
