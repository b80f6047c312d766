"""Loading policies: YAML files, the packaged regions, and lookup by region and date with fallback."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from onestop.errors import ConfigError, FieldViolation, PolicyNotFound
from onestop.policy._model import RegionalPolicy

__all__ = ["load_policy", "packaged_policies", "parse_policy", "policy_for"]

# A cross-field problem reported by a validator as "relative.path[2].field: reason".
_PROBLEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_.\[\]]*): (.+)$")


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]" or part.startswith(("function-", "json-or-python")):
            continue  # pydantic's marks for dict keys and validator steps, not places in the file
        else:
            out += ("." if out else "") + part
    return out


def _join(base: str, rel: str) -> str:
    if not base:
        return rel
    return base + rel if rel.startswith("[") else f"{base}.{rel}"


def _violations(exc: ValidationError, source: str) -> tuple[FieldViolation, ...]:
    out: list[FieldViolation] = []
    for err in exc.errors(include_url=False):
        base = _path(tuple(err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        parts = msg.split("; ") if err["type"] == "value_error" else [msg]
        for part in parts:
            m = _PROBLEM.match(part)
            path, reason = (_join(base, m.group(1)), m.group(2)) if m else (base, part)
            out.append(FieldViolation(f"{source}: {path or '(root)'}", reason))
    return tuple(out)


def _plain(value: Any) -> Any:
    # YAML gives dates as date objects; the strict model reads the JSON form of the document.
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a policy value")


def parse_policy(data: Any, *, source: str = "<policy>") -> RegionalPolicy:
    """Validate a policy document already parsed from YAML or JSON.

    The document is read in JSON mode of the strict model: enum codes as text, dates as ISO text or
    YAML dates, amounts as integers, ratios as quoted decimal text.

    Args:
        data: The parsed document (mappings, lists, scalars).
        source: Name used in error messages (the file name).

    Raises:
        ConfigError: naming ``source``, the path inside the document (e.g.
            ``basic.310.kinds.inpatient.rates[2].ratio``) and the reason, for every problem found.
    """
    try:
        text = json.dumps(data, default=_plain, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"{source}: invalid regional policy", violations=(FieldViolation(f"{source}: (root)", str(exc)),)
        ) from None
    try:
        return RegionalPolicy.model_validate_json(text)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid regional policy", violations=_violations(exc, source)) from None


def load_policy(path: str | Path) -> RegionalPolicy:
    """Load and validate a regional policy YAML (or JSON) file.

    Raises:
        ConfigError: the file cannot be read or parsed, or does not validate (file, path, reason).
    """
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"{p.name}: cannot read policy", violations=(FieldViolation(f"{p.name}: (file)", str(exc)),)
        ) from None
    return parse_policy(data, source=p.name)


def _check_overlaps(policies: tuple[RegionalPolicy, ...]) -> None:
    by_region: dict[str, list[RegionalPolicy]] = {}
    for p in policies:
        by_region.setdefault(p.admdvs, []).append(p)
    problems = []
    for region, ps in sorted(by_region.items()):
        ps.sort(key=lambda p: p.valid_from)
        for a, b in itertools.pairwise(ps):
            if a.valid_to is None or a.valid_to >= b.valid_from:
                problems.append(FieldViolation(f"{b.id}: valid_from", f"overlaps {a.id} for region {region}"))
    if problems:
        raise ConfigError("packaged policies overlap in time", violations=tuple(problems))


@functools.cache
def packaged_policies() -> tuple[RegionalPolicy, ...]:
    """The regions shipped with onestop (the textbook fixture and the unverified example cities).

    Raises:
        ConfigError: a packaged file does not validate, or two versions of a region overlap in time.
    """
    out = []
    regions = resources.files("onestop.policy").joinpath("regions")
    for entry in sorted(regions.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            out.append(parse_policy(yaml.safe_load(entry.read_text(encoding="utf-8")), source=entry.name))
    policies = tuple(out)
    _check_overlaps(policies)
    return policies


def policy_for(region: str, on: dt.date, policies: tuple[RegionalPolicy, ...] | None = None) -> RegionalPolicy:
    """The policy in force for a region on a date: the pooling region's own, else its province's.

    Args:
        region: The insured region's admdvs (6 digits).
        on: The date that must fall inside the policy's validity.
        policies: Where to look (default: :func:`packaged_policies`).

    Raises:
        PolicyNotFound: neither the region nor its province has a policy in force on that date.
    """
    candidates = packaged_policies() if policies is None else policies
    for code in dict.fromkeys((region, region[:2] + "0000")):
        for p in candidates:
            if p.admdvs == code and p.in_force(on):
                return p
    raise PolicyNotFound(
        f"no regional policy in force for {region} (or its province) on {on.isoformat()}",
        metadata={"region": region, "date": on.isoformat()},
    )


def treatment_policy_for(
    hospital_region: str,
    insured_region: str,
    on: dt.date,
    lookup: Callable[[str, dt.date], RegionalPolicy] | None = None,
) -> RegionalPolicy | None:
    """For an 异地 visit, the treatment region's policy (whose tiers name the hospital's); else None.

    Args:
        hospital_region: The treatment region's admdvs (就医地).
        insured_region: The insured region's admdvs (参保地).
        on: The visit's date.
        lookup: ``(region, date) → policy`` (default: :func:`policy_for` over the packaged policies).

    Returns:
        None for a visit at home, or when no policy of the treatment region is known (the hospital's
        tier is then read among the insured region's tiers).
    """
    if hospital_region == insured_region:
        return None
    try:
        return (lookup or policy_for)(hospital_region, on)
    except PolicyNotFound:
        return None
