"""`onestop adapter new` makes a package that installs, registers its entry point and passes the kit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from onestop.sdk.cli import adapter as adapter_cli


def _env(site: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_scaffolded_package_installs_and_passes_the_kit(tmp_path: Path) -> None:
    """The generated package pip-installs (into a target dir), is found by entry point, and its kit passes."""
    result = CliRunner().invoke(adapter_cli, ["new", "acme_health", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    pkg = tmp_path / "acme_health"
    assert (pkg / "tests" / "test_core.py").read_text().count("get_adapter_test_class(") == 1
    site = tmp_path / "site"
    # A real build and install (wheel, dist-info, entry points) into a private target, so the shared venv is untouched.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(pkg),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "from onestop.sdk import load_adapters; print(sorted(load_adapters(only=['acme_health'])))",
        ],
        env=_env(site),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert found.stdout.strip().splitlines()[-1] == "['acme_health']"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "tests"],
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=240,
        cwd=pkg,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout
    assert "failed" not in run.stdout


@pytest.mark.parametrize("name", ["Acme", "1acme", "a", "acme-health"])
def test_bad_names_refused(tmp_path: Path, name: str) -> None:
    """Names that cannot be a Python package and an entry-point name are refused with a usage error."""
    result = CliRunner().invoke(adapter_cli, ["new", name, "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "lower-case letters" in result.output


def test_existing_directory_is_not_overwritten(tmp_path: Path) -> None:
    """Scaffolding into an existing directory is refused and leaves it untouched."""
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(adapter_cli, ["new", "acme", "--dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert (tmp_path / "acme" / "keep.txt").read_text() == "mine"
