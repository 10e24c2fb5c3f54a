"""The domain, shared by the API and by every function.

Pydantic models are built on first use, not when their module is imported (``defer_build``;
issue 23): the API is one Lambda that imports every route's schemas, a few hundred models, and
a request validates or dumps only a handful of them. Behaviour is the same; the first request
that uses a model pays for building it (a few milliseconds), not every cold start for all.
"""

from __future__ import annotations

from pydantic import BaseModel

BaseModel.model_config["defer_build"] = True
