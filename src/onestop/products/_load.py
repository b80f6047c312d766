"""Loading product designs from YAML, keeping line numbers so every error names file, line and field."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from pydantic import ValidationError

from onestop.errors import ConfigError, FieldViolation, NotFound
from onestop.products._schema import Design

__all__ = ["load_design", "load_product", "parse_design", "shipped_designs"]

Path_ = tuple[int | str, ...]


def _scalar(node: yaml.ScalarNode) -> Any:
    # Floats keep their text so ratios stay exact; dates become ISO text for the JSON-mode model.
    if node.tag == "tag:yaml.org,2002:float":
        return node.value
    if node.tag == "tag:yaml.org,2002:timestamp":
        return node.value
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)


def _plain(node: yaml.Node, path: Path_, marks: dict[Path_, int]) -> Any:
    """The node as plain data, recording each value's 1-based line under its path."""
    marks[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise ConfigError(
                    "bad mapping key",
                    violations=(FieldViolation(f"line {key_node.start_mark.line + 1}", "keys are plain text"),),
                )
            skey = str(key)
            if skey in out:
                raise ConfigError(
                    "duplicate key",
                    violations=(FieldViolation(f"line {key_node.start_mark.line + 1}: {skey}", "given twice"),),
                )
            out[skey] = _plain(value_node, (*path, skey), marks)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(v, (*path, i), marks) for i, v in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node)


def _dotted(loc: Path_) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(root)"


def _line(loc: Path_, marks: dict[Path_, int]) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in marks:
            return marks[loc[:n]]
    return 1


def _clean_loc(loc: tuple[int | str, ...]) -> Path_:
    # pydantic adds step names (``function-after[...]``) and ``[key]`` markers that are no places in the file.
    return tuple(p for p in loc if isinstance(p, int) or not (p == "[key]" or "[" in p or p.startswith("json-")))


def _relative(part: str) -> tuple[Path_, str]:
    """Split a validator's ``path[2].field: reason`` problem into a relative path and the reason."""
    head, sep, reason = part.partition(": ")
    if not sep or " " in head:
        return (), part
    rel: list[int | str] = []
    for piece in head.replace("]", "").split("."):
        name, *idx = piece.split("[")
        if name:
            rel.append(name)
        rel.extend(int(i) for i in idx if i.isdigit())
    return tuple(rel), reason


def parse_design(text: str, *, source: str = "<design>") -> Design:
    """Validate a design from YAML text.

    Args:
        text: The YAML document.
        source: Name used in errors (the file name).

    Raises:
        ConfigError: every problem found, each as ``<source>:<line>: <field path>`` and the reason.
    """
    marks: dict[Path_, int] = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", -1) + 1
        raise ConfigError(
            f"{source}: not valid YAML", violations=(FieldViolation(f"{source}:{max(line, 1)}", str(exc)),)
        ) from None
    if node is None:
        raise ConfigError(f"{source}: empty design", violations=(FieldViolation(f"{source}:1", "empty document"),))
    try:
        data = _plain(node, (), marks)
    except ConfigError as exc:
        raise ConfigError(
            f"{source}: invalid product design",
            violations=tuple(FieldViolation(f"{source}:{v.field}", v.description) for v in exc.violations),
        ) from None
    try:
        return Design.model_validate_json(json.dumps(data, ensure_ascii=False))
    except ValidationError as exc:
        out: list[FieldViolation] = []
        for err in exc.errors(include_url=False):
            base = _clean_loc(tuple(err["loc"]))
            msg = str(err["msg"]).removeprefix("Value error, ")
            for part in msg.split("; ") if err["type"] == "value_error" else [msg]:
                rel, reason = _relative(part)
                loc = (*base, *rel)
                out.append(FieldViolation(f"{source}:{_line(loc, marks)}: {_dotted(loc)}", reason))
        raise ConfigError(f"{source}: invalid product design", violations=tuple(out)) from None


def load_product(path: str | Path) -> Design:
    """Load and validate a product design file (YAML).

    Raises:
        ConfigError: the file cannot be read, is not YAML, or does not validate; each violation
            names ``<file>:<line>: <field path>`` and the reason.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{p.name}: cannot read product design", violations=(FieldViolation(p.name, str(exc)),)
        ) from None
    return parse_design(text, source=p.name)


@functools.cache
def shipped_designs() -> Mapping[str, Design]:
    """The designs shipped with onestop, by product code (``src/onestop/products/designs/*.yaml``).

    Raises:
        ConfigError: a shipped file does not validate, or two files share a product code.
    """
    out: dict[str, Design] = {}
    folder = resources.files("onestop.products").joinpath("designs")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        design = parse_design(entry.read_text(encoding="utf-8"), source=entry.name)
        if design.code in out:
            raise ConfigError(
                "shipped designs share a code", violations=(FieldViolation(f"{entry.name}: code", design.code),)
            )
        out[design.code] = design
    return MappingProxyType(out)


def load_design(code: str) -> Design:
    """A shipped design by product code (e.g. ``heilongjiang-upgraded-2025``).

    Raises:
        NotFound: no shipped design has this code.
    """
    designs = shipped_designs()
    try:
        return designs[code]
    except KeyError:
        raise NotFound(
            f"no shipped product design {code!r} (shipped: {', '.join(sorted(designs))})", metadata={"product": code}
        ) from None
