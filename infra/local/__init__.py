"""The local stack: moto in server mode standing in for AWS, provisioned from
``infra/resources.py``, with the API, the SPA, the queue workers and the scheduler."""
