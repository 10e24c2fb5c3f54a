"""Cross-cutting platform code shared by every module: configuration, tenancy, auth, rbac,
the API envelope and errors, events, storage, the DynamoDB table, audit and crypto."""
