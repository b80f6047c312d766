"""``onestop adapter new NAME``: an installable adapter package whose tests run the kit."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from onestop.errors import InvalidRequest

__all__ = ["scaffold_adapter"]

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,39}$")

#: template file → path in the generated package ("{name}" is replaced).
_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "src/onestop_{name}/__init__.py",
    "adapter.py.tmpl": "src/onestop_{name}/adapter.py",
    "test_core.py.tmpl": "tests/test_core.py",
}


def scaffold_adapter(name: str, parent: Path) -> Path:
    """Write the package ``<parent>/<name>`` for a new insurer adapter.

    Args:
        name: Adapter name: lower case letters, digits and ``_``, starting with a letter.
        parent: Directory to create the package in.

    Returns:
        The package directory.

    Raises:
        InvalidRequest: For a bad name or an existing target directory.
    """
    if not _NAME.match(name):
        raise InvalidRequest(f"adapter name {name!r}: use 2-40 lower-case letters, digits or _, starting with a letter")
    target = parent / name
    if target.exists():
        raise InvalidRequest(f"{target} already exists; choose another name or directory")
    cls = "".join(part.capitalize() for part in name.split("_"))
    values = {"name": name, "cls": cls}
    tmpl = resources.files("onestop.sdk") / "_template"
    for src, dest in _FILES.items():
        text = Template(tmpl.joinpath(src).read_text(encoding="utf-8")).substitute(values)
        out = target / dest.format(name=name)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    (target / "src" / f"onestop_{name}" / "py.typed").write_text("", encoding="utf-8")
    return target
