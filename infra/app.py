"""CDK app entry (``make synth STAGE=dev`` / ``make deploy STAGE=dev`` run it from infra/).

Stages: ``dev`` and ``prod`` (``-c stage=...``). Optional context: ``region`` (default eu-west-3),
``account``, ``domainName`` + ``certificateArn`` (custom domain for the SPA and API),
``alarmEmail``, ``manageSesIdentity``, ``apiRateLimit``, ``apiBurstLimit``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from infra/: make the repository importable
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402

from infra.artifacts import default_artifacts  # noqa: E402
from infra.resources import for_stage  # noqa: E402
from infra.settings import from_context  # noqa: E402
from infra.stack import CuspideStack  # noqa: E402


def build(app: cdk.App) -> CuspideStack:
    get = app.node.try_get_context
    settings = from_context(get, get("stage") or "dev")
    res = for_stage(settings.stage)
    artifacts = default_artifacts(HERE / "build")
    artifacts.check()
    account = settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT")
    return CuspideStack(
        app,
        res.prefix,
        res=res,
        settings=settings,
        artifacts=artifacts,
        env=cdk.Environment(account=account, region=settings.region),
        description=f"Cúspide ({settings.stage}): API, SPA, workers, data",
        termination_protection=settings.protect_data,
    )


if __name__ == "__main__":
    app = cdk.App()
    build(app)
    app.synth()
