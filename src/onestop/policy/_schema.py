"""The published JSON Schema of the regional policy file (``schema.json`` next to this module).

Regenerate after changing the model: ``python -m onestop.policy``; a test fails while the
committed file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from onestop.policy._model import RegionalPolicy

__all__ = ["SCHEMA_PATH", "policy_json_schema", "write_schema"]

SCHEMA_PATH = Path(__file__).with_name("schema.json")


# Bounds on the Fen type reach the schema under pydantic's names (Fen has its own core schema, so
# pydantic cannot translate them); JSON Schema validators only know the standard keywords.
_BOUND_KEYWORDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _standard_bounds(node: Any) -> Any:
    """``node`` with pydantic's bound names turned into JSON Schema's keywords, at every depth."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _BOUND_KEYWORDS and isinstance(value, (int, float)) and "type" in node:
                out[_BOUND_KEYWORDS[key]] = value
            else:
                out[key] = _standard_bounds(value)
        return out
    if isinstance(node, list):
        return [_standard_bounds(v) for v in node]
    return node


def policy_json_schema() -> str:
    """The JSON Schema of a policy file as text, with sorted keys so the committed copy can be diffed."""
    schema = _standard_bounds(RegionalPolicy.model_json_schema(mode="validation"))
    schema["$id"] = "https://onestop.invalid/schemas/regional-policy.json"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "onestop regional policy"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schema() -> Path:
    """Write the schema next to this module and return its path."""
    SCHEMA_PATH.write_text(policy_json_schema(), encoding="utf-8")
    return SCHEMA_PATH
