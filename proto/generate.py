"""Regenerate the Python code of the onestop.v1 contract: ``python proto/generate.py [OUT_DIR]``.

OUT_DIR defaults to ``src`` (the committed tree ``src/onestop/v1``); a test generates into a
temporary directory and compares byte for byte, so the committed code always matches the protos.
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def generate(out: Path) -> list[Path]:
    """Run protoc (Python, gRPC and mypy stubs) over every proto of onestop.v1 into ``out``."""
    protos = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "onestop" / "v1").glob("*.proto"))
    out.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{ROOT}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out}",
        f"--grpc_python_out={out}",
        f"--mypy_out={out}",
        f"--mypy_grpc_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    pkg = out / "onestop" / "v1"
    (pkg / "__init__.py").write_text('"""Generated code of the onestop.v1 gRPC contract (see proto/)."""\n')
    return sorted(pkg.iterdir())


if __name__ == "__main__":
    for path in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "src"):
        print(path)  # noqa: T201  (a script: it lists what it wrote)
