"""Health checks and the OpenAPI document."""
