"""Fixtures the GDPR erasure tests share with the imaging and billing tests: the image worker
(renditions in S3), a patient, an uploaded image, the billing clinic."""

from tests.integration.billing.conftest import billing  # noqa: F401
from tests.integration.imaging.conftest import (  # noqa: F401
    patient,
    start_upload,
    uploaded,
    worker,
)
