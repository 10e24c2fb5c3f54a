from __future__ import annotations

from tests.integration.billing.conftest import (  # noqa: F401 (fixtures)
    billing,
    hygienist,
    other_billing,
    receptionist,
)
