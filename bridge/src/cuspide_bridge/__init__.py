"""Cúspide Bridge: the reference client that runs on the PC beside an X-ray sensor.

It watches the folders the sensor software saves to, waits until each capture is completely
written, queues it durably (sqlite) and uploads it to the clinic with the device's API key
(``Authorization: Bearer cbk_...``): request a capture, POST the bytes to the presigned form,
report the outcome, then follow the capture until it is ready, failed or in the inbox.
"""

__version__ = "0.1.0"
