from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.core.api import Principal

DEMO_PASSWORD = "cuspide-demo"  # noqa: S105 - the documented demo login of the local stack
# The demo Bridge device's API key (Clínica Demo, "Sensor Gabinete 1"): public like the demo
# password, so the reference client can be tried against ``make run`` without registering one.
DEMO_DEVICE_KEY = "cbk_demo2bridge2.cuspide-demo-bridge-key-for-the-local-stack"  # noqa: S105


@dataclass
class DemoContext:
    """What later seeders build on: the demo clinics and a principal per role."""

    demo_clinic_id: str
    norte_clinic_id: str
    demo: dict[str, Principal] = field(default_factory=dict)  # role -> principal
    norte: dict[str, Principal] = field(default_factory=dict)
