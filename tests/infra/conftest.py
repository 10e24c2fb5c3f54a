"""Synthesize the CDK app once per stage per session (offline; no AWS credentials).

The Chalice construct packages the API during synthesis (``chalice package``): the first run
downloads manylinux wheels from PyPI into Chalice's cache (.chalice/deployments), later runs
reuse it. Layers are stand-in directories here: their real build is ``make layers``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from infra.artifacts import ROOT, Artifacts, stage_worker_code  # noqa: E402
from infra.resources import Resources, for_stage  # noqa: E402
from infra.settings import from_context  # noqa: E402
from infra.stack import CuspideStack  # noqa: E402


@dataclass
class Synth:
    stage: str
    res: Resources
    stack: CuspideStack
    template: Template
    json: dict[str, Any]
    path: Path

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.json["Resources"].items() if v["Type"] == type_}


def _layer(path: Path) -> Path:
    (path / "python").mkdir(parents=True, exist_ok=True)
    (path / "python" / "STUB").write_text("layer stand-in for synthesis tests\n")
    return path


def copy_api_source(dest: Path) -> Path:
    """The Chalice project alone, so packaging caches into a temp dir, not the repository."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "app.py", dest / "app.py")
    shutil.copy(ROOT / "requirements.txt", dest / "requirements.txt")
    (dest / ".chalice").mkdir(exist_ok=True)
    shutil.copy(ROOT / ".chalice" / "config.json", dest / ".chalice" / "config.json")
    shutil.copytree(
        ROOT / "chalicelib",
        dest / "chalicelib",
        ignore=shutil.ignore_patterns("__pycache__"),
        dirs_exist_ok=True,
    )
    return dest


# What `cdk synth` passes the app from infra/cdk.json (feature flags, default region), so the
# tested template is the deployed one.
CDK_JSON_CONTEXT = json.loads((ROOT / "infra" / "cdk.json").read_text())["context"]

# prod as a clinic group would deploy it: custom domain, producer NIF, a product override.
PROD_CONTEXT = {
    "domainName": "app.clinica-ejemplo.es",
    "certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/"
    "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "VERIFACTU_PRODUCER_NIF": "B12345674",
    "VERIFACTU_PRODUCER_NAME": "Clínica Ejemplo Software, S.L.",
    "IMAGING_MAX_DICOM_MB": "200",
}


def synth(
    stage: str,
    res: Resources,
    out: Path,
    api_source: Path,
    context: dict[str, Any] | None = None,
) -> Synth:
    out.mkdir(parents=True, exist_ok=True)
    cwd = os.getcwd()
    # The Chalice construct loads the app with the stage's environment variables set in
    # os.environ (CUSPIDE_STAGE, KMS_KEY_ALIAS, ...): restore ours afterwards, or every later
    # test in this worker would talk to the synthesized stage's resource names.
    environ = dict(os.environ)
    os.chdir(out)  # the Chalice construct writes chalice.out/ into the working directory
    try:
        ctx = {**CDK_JSON_CONTEXT, "stage": stage, **(context or {})}
        app = cdk.App(outdir=str(out / "cdk.out"), context=ctx)
        settings = from_context(app.node.try_get_context, stage)
        artifacts = Artifacts(
            deps_layer=_layer(out / "layers" / "deps"),
            imaging_layer=_layer(out / "layers" / "imaging"),
            worker_code=stage_worker_code(out / "worker-code"),
            api_source=api_source,
        )
        stack = CuspideStack(
            app,
            res.prefix,
            res=res,
            settings=settings,
            artifacts=artifacts,
            env=cdk.Environment(account="123456789012", region=settings.region),
        )
        assembly = app.synth()
    finally:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        from chalicelib.core.config import settings as product_settings

        product_settings.cache_clear()
    path = Path(assembly.directory) / f"{stack.stack_name}.template.json"
    data = json.loads(path.read_text())
    return Synth(stage, res, stack, Template.from_json(data), data, path)


@pytest.fixture(scope="session")
def api_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_api_source(tmp_path_factory.mktemp("api-source"))


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory, api_source: Path) -> Synth:
    return synth("dev", for_stage("dev"), tmp_path_factory.mktemp("dev"), api_source)


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory, api_source: Path) -> Synth:
    return synth(
        "prod", for_stage("prod"), tmp_path_factory.mktemp("prod"), api_source, PROD_CONTEXT
    )


@pytest.fixture(scope="session", params=["dev", "prod"])
def any_stage(request: pytest.FixtureRequest) -> Synth:
    return request.getfixturevalue(request.param)
