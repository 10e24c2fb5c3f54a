"""layers/build.py (`make layers`) without the network: the pip command it runs, what it prunes,
and the size check against Lambda's limit; and the stage settings the CDK app reads."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra.settings import PRODUCT_OVERRIDES, from_context
from layers import build

MB = 1024 * 1024


@pytest.fixture
def build_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(build, "BUILD", tmp_path / "build")
    return tmp_path / "build"


def _fill(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        fh.truncate(size)  # sparse: counts its size, takes no disk


def test_build_installs_only_manylinux_wheels_for_the_lambda_runtime(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_pip(cmd: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        calls.append(cmd)
        target = Path(cmd[cmd.index("--target") + 1])
        for rel in ("PIL/__init__.py", "numpy/testing/__init__.py", "pkg/tests/test_x.py"):
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            (target / rel).write_text("")
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(build.subprocess, "run", fake_pip)
    target = build.build(build.LAYERS["imaging"])

    (cmd,) = calls
    assert cmd[1:4] == ["-m", "pip", "install"]
    assert "--only-binary=:all:" in cmd  # never compile: no wheel, no layer
    assert cmd[cmd.index("--python-version") + 1] == "3.11"
    assert cmd[cmd.index("--implementation") + 1] == "cp"
    platforms = [cmd[i + 1] for i, a in enumerate(cmd) if a == "--platform"]
    assert platforms == ["manylinux2014_aarch64", "manylinux_2_17_aarch64"]
    # the imaging layer resolves the API's requirements and the imaging ones together
    reqs = [Path(cmd[i + 1]).name for i, a in enumerate(cmd) if a == "-r"]
    assert reqs == ["requirements.txt", "requirements-imaging.txt"]
    assert target == build_dir / "imaging" / "python"
    # test suites pruned, numpy.testing kept (numpy imports it)
    assert not (target / "pkg" / "tests").exists()
    assert (target / "numpy" / "testing" / "__init__.py").exists()
    assert (target / "PIL" / "__init__.py").exists()
    assert "arch=arm64" in (target.parent / "BUILD_INFO").read_text()


def test_deps_layer_is_the_api_requirements() -> None:
    assert build.LAYERS["deps"].requirements == ("requirements.txt",)
    for layer in build.LAYERS.values():
        for req in layer.requirements:
            assert (build.ROOT / req).is_file(), req


def test_size_check_passes_within_budget_and_fails_over_it(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setattr(build, "LAYER_BUDGET", 10 * MB)
    _fill(build_dir / "deps" / "python" / "boto3" / "data.bin", 4 * MB)
    _fill(build_dir / "imaging" / "python" / "numpy" / "core.so", 6 * MB)
    _fill(build_dir / "imaging" / "python" / "PIL" / "imaging.so", 4 * MB)
    assert build.check(["deps", "imaging"]) is True
    assert "[imaging] unzipped 10.0 MB of 10.0 MB budget" in capsys.readouterr().out

    _fill(build_dir / "imaging" / "python" / "pydicom" / "extra.bin", 1)
    assert build.check(["deps"]) is True
    assert build.check(["imaging"]) is False
    assert "TOO BIG" in capsys.readouterr().out
    assert build.main(["--check-only"]) == 1  # what `make layers` exits with


def test_size_check_fails_when_a_layer_is_not_built(build_dir: Path, capsys: Any) -> None:
    _fill(build_dir / "deps" / "python" / "x.py", 10)
    assert build.check(["deps", "imaging"]) is False
    assert "[imaging] not built" in capsys.readouterr().out


def test_budget_leaves_room_for_the_function_code() -> None:
    assert build.LAYER_BUDGET < build.UNZIPPED_LIMIT == 250 * MB


def test_layers_match_the_stack_runtime() -> None:
    from infra.stack import RUNTIME, WORKER_ARCH

    assert WORKER_ARCH.name == build.ARCHITECTURE
    assert RUNTIME.name == f"python{build.PYTHON_VERSION}"


def test_unknown_layer_is_refused() -> None:
    with pytest.raises(SystemExit):
        build.main(["video"])


# -- stage settings (CDK context) --------------------------------------------------------------


def _ctx(**values: str) -> Any:
    return values.get


def test_prod_needs_the_verifactu_producer_nif() -> None:
    with pytest.raises(SystemExit, match="VERIFACTU_PRODUCER_NIF"):
        from_context(_ctx(), "prod")
    s = from_context(_ctx(VERIFACTU_PRODUCER_NIF="B12345674"), "prod")
    assert dict(s.product_env) == {"VERIFACTU_PRODUCER_NIF": "B12345674"}
    assert s.protect_data is True
    assert from_context(_ctx(), "dev").product_env == ()  # dev: the code's placeholder


def test_product_overrides_pass_through_and_nothing_else() -> None:
    s = from_context(_ctx(IMAGING_MAX_DICOM_MB="200", SOMETHING_ELSE="x"), "dev")
    assert dict(s.product_env) == {"IMAGING_MAX_DICOM_MB": "200"}
    assert "IMAGING_MAX_DICOM_MB" in PRODUCT_OVERRIDES


def test_unknown_stage_is_refused() -> None:
    with pytest.raises(SystemExit, match="stage must be one of"):
        from_context(_ctx(), "staging")
