"""Loading policies: packaged regions, lookup with fallback, the published schema, and errors naming file + path."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from importlib import resources

import pytest
import yaml
from policy.pol_helpers import CHANGCHUN, HANGZHOU, TEXTBOOK

from onestop.domain.codes import PrescribingContext
from onestop.errors import ConfigError, PolicyNotFound
from onestop.policy import BenefitKind, load_policy, packaged_policies, parse_policy, policy_for, policy_json_schema
from onestop.policy._load import _check_overlaps
from onestop.policy._schema import SCHEMA_PATH

REGIONS = resources.files("onestop.policy").joinpath("regions")


def textbook_doc() -> dict:
    return yaml.safe_load(REGIONS.joinpath("textbook.yaml").read_text(encoding="utf-8"))


def errors_of(doc: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as ei:
        parse_policy(doc, source="bad.yaml")
    return {v.field: v.description for v in ei.value.violations}


def test_packaged_regions():
    """The package ships the textbook region and the two example cities, nothing else."""
    assert sorted((p.id, p.admdvs) for p in packaged_policies()) == [
        ("changchun", "220100"),
        ("hangzhou", "330100"),
        ("textbook", "990100"),
    ]


@pytest.mark.parametrize("policy", [CHANGCHUN, HANGZHOU])
def test_example_cities_are_labelled_unverified(policy):
    """Changchun and Hangzhou carry the label "unverified example parameters" (it goes into every settlement)."""
    assert policy.label == "unverified example parameters"


@pytest.mark.parametrize("name", ["changchun.yaml", "hangzhou.yaml"])
def test_example_city_files_say_unverified_in_the_file(name):
    """The example city files say in their header comment that the figures are unverified."""
    assert "UNVERIFIED EXAMPLE PARAMETERS" in REGIONS.joinpath(name).read_text(encoding="utf-8").splitlines()[0]


def test_textbook_is_labelled_fictional():
    """The textbook region says it is fictional."""
    assert "fictional" in TEXTBOOK.label


def test_policy_for_falls_back_to_the_province():
    """A pooling region without its own policy uses its province's."""
    prov = TEXTBOOK.model_copy(update={"admdvs": "440000", "id": "prov"})
    assert policy_for("440300", dt.date(2026, 1, 1), (prov,)).id == "prov"


def test_policy_for_prefers_the_pooling_region():
    """The pooling region's own policy wins over its province's."""
    prov = TEXTBOOK.model_copy(update={"admdvs": "990000", "id": "prov"})
    assert policy_for("990100", dt.date(2026, 1, 1), (prov, TEXTBOOK)).id == "textbook"


def test_policy_for_picks_the_version_in_force():
    """Of two versions of a region, the one whose validity covers the date is used."""
    old = TEXTBOOK.model_copy(update={"id": "old", "valid_to": dt.date(2025, 12, 31)})
    new = TEXTBOOK.model_copy(update={"id": "new", "valid_from": dt.date(2026, 1, 1)})
    got = [policy_for("990100", dt.date(y, 6, 1), (old, new)).id for y in (2025, 2026)]
    assert got == ["old", "new"]


def test_policy_for_unknown_region():
    """A region with no policy (nor its province) is PolicyNotFound."""
    with pytest.raises(PolicyNotFound):
        policy_for("450100", dt.date(2026, 1, 1))


def test_policy_for_before_validity():
    """A date before the policy's valid_from is PolicyNotFound."""
    with pytest.raises(PolicyNotFound):
        policy_for("990100", dt.date(2019, 12, 31))


def test_overlapping_versions_are_refused():
    """Two versions of one region in force on the same day are a configuration error."""
    later = TEXTBOOK.model_copy(update={"id": "later", "valid_from": dt.date(2025, 1, 1)})
    with pytest.raises(ConfigError, match="overlap"):
        _check_overlaps((TEXTBOOK, later))


def test_published_schema_is_fresh():
    """schema.json equals the schema generated from the model (regenerate: python -m onestop.policy)."""
    assert SCHEMA_PATH.read_text(encoding="utf-8") == policy_json_schema()


def test_schema_documents_fields():
    """Field docs reach the schema: the label's description says it is carried into settlements."""
    schema = json.loads(policy_json_schema())
    assert "carried into every settlement" in schema["properties"]["label"]["description"]


def test_schema_bounds_use_json_schema_keywords():
    """Non-negative fen fields say "minimum": 0 (a validator ignores pydantic's "ge"), and no "ge"/"le" is left."""
    schema = json.loads(policy_json_schema())
    text = json.dumps(schema)
    assert '"ge":' not in text
    assert '"le":' not in text
    fen = schema["$defs"]["AssistanceTerms"]["properties"]["annual_cap_fen"]
    assert (fen["type"], fen["minimum"]) == ("integer", 0)


def test_load_policy_reads_a_file(tmp_path):
    """load_policy reads a YAML file into the same policy as the packaged copy."""
    f = tmp_path / "tb.yaml"
    f.write_text(REGIONS.joinpath("textbook.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    assert load_policy(f) == TEXTBOOK


def test_dump_and_parse_round_trip():
    """A policy dumped to JSON parses back to an equal policy (ratios stay exact decimals)."""
    assert parse_policy(json.loads(TEXTBOOK.model_dump_json())) == TEXTBOOK


def test_loader_error_names_file_path_and_reason(tmp_path):
    """A float ratio in a file is refused with the file name, the path inside it and the reason."""
    doc = textbook_doc()
    doc["basic"]["310"]["kinds"]["inpatient"]["rates"][2]["ratio"] = 0.8
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_policy(f)
    (v,) = ei.value.violations
    assert v.field == "bad.yaml: basic.310.kinds.inpatient.rates[2].ratio"
    assert "quoted decimal" in v.description


def test_unreadable_yaml_names_the_file(tmp_path):
    """A file that is not YAML is a ConfigError naming the file."""
    f = tmp_path / "broken.yaml"
    f.write_text("id: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_policy(f)


def _set(path: tuple, value):
    def edit(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


def _drop(path: tuple):
    def edit(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return edit


@pytest.mark.parametrize(
    ("edit", "path", "reason"),
    [
        (_drop(("work_injury",)), "work_injury", "Field required"),
        (_set(("colour",), "blue"), "colour", "Extra inputs are not permitted"),
        (_set(("basic", "310", "annual_cap_fen"), "30000000"), "basic.310.annual_cap_fen", "valid integer"),
        (_set(("basic", "310", "annual_cap_fen"), -1), "basic.310.annual_cap_fen", "greater than or equal to 0"),
        (
            _set(("basic", "310", "kinds", "inpatient", "rates", 1, "tier"), "四级"),
            "basic.310.kinds.inpatient.rates[1].tier",
            "not one of hospital_tiers",
        ),
        (
            _set(("basic", "310", "kinds", "inpatient", "rates", 1, "ratio"), "1.2"),
            "basic.310.kinds.inpatient.rates[1].ratio",
            "between 0 and 1",
        ),
        (
            _set(("basic", "310", "kinds", "general_outpatient", "rates", 1, "psn_group"), "veteran"),
            "basic.310.kinds.general_outpatient.rates[1].psn_group",
            "not in basic.310.psn_groups",
        ),
        (
            _set(("basic", "390", "serious_illness", "bands", 0, "upto_fen"), 100),
            "basic.390.serious_illness.bands[0].upto_fen",
            "above the threshold",
        ),
        (_set(("basic", "310", "kinds", "dental"), {"rates": []}), "basic.310.kinds.dental", "should be 'inpatient'"),
        (_drop(("basic", "310", "kinds", "general_outpatient")), "basic.310.kinds", "general_outpatient are required"),
        (_set(("benefit_year_rule",), "birthday"), "benefit_year_rule", "discharge_date"),
        (_set(("valid_to",), dt.date(2019, 1, 1)), "valid_to", "before valid_from"),
        (
            _set(("medical_assistance", "none"), {"ratio": "1", "annual_cap_fen": 1}),
            "medical_assistance.none",
            "not an",
        ),
        (
            _set(("cross_region", "unfiled_ratio_adjustment"), "-1.5"),
            "cross_region.unfiled_ratio_adjustment",
            "[-1, 1]",
        ),
        (_set(("maternity", "standard_fen", "53"), 1), "maternity.standard_fen", "51, 52 or *"),
        (_set(("hospital_tiers", 1, "level"), 4), "hospital_tiers[1].level", "less than or equal to 3"),
    ],
)
def test_invalid_documents_name_path_and_reason(edit, path, reason):
    """Each kind of mistake is reported at its place in the file with a reason that says what is wrong."""
    doc = copy.deepcopy(textbook_doc())
    edit(doc)
    errors = errors_of(doc)
    assert reason in errors[f"bad.yaml: {path}"]


def test_missing_tier_row_is_refused():
    """Every tier needs a rate row (or a '*' row) in every kind."""
    doc = textbook_doc()
    doc["hospital_tiers"].append({"name": "四级", "level": 3})
    errors = errors_of(doc)
    assert "no row for tiers ['四级']" in errors["bad.yaml: basic.310.kinds.inpatient.rates"]


def test_duplicate_rate_row_is_refused():
    """Two rows for the same tier and group are ambiguous and refused."""
    doc = textbook_doc()
    doc["basic"]["310"]["kinds"]["inpatient"]["rates"].append({"tier": "一级", "deductible_fen": 1, "ratio": "0.5"})
    assert "duplicate row" in errors_of(doc)["bad.yaml: basic.310.kinds.inpatient.rates[3]"]


def test_every_problem_is_reported_at_once():
    """Several mistakes give one violation each, not just the first."""
    doc = textbook_doc()
    del doc["work_injury"]
    doc["colour"] = "blue"
    assert {"bad.yaml: work_injury", "bad.yaml: colour"} <= set(errors_of(doc))


def test_resolve_kind_fallbacks():
    """Kinds without terms fall back: pharmacy → prescribing context's kind; 两病/门慢 → general outpatient."""
    applied = {k: TEXTBOOK.resolve_kind("390", k)[1] for k in BenefitKind}
    assert applied == {
        BenefitKind.INPATIENT: BenefitKind.INPATIENT,
        BenefitKind.GENERAL_OUTPATIENT: BenefitKind.GENERAL_OUTPATIENT,
        BenefitKind.CHRONIC_SPECIAL: BenefitKind.GENERAL_OUTPATIENT,
        BenefitKind.TWO_DISEASES: BenefitKind.TWO_DISEASES,
        BenefitKind.PHARMACY_OUTPATIENT: BenefitKind.GENERAL_OUTPATIENT,
        BenefitKind.PHARMACY_INPATIENT_DISCHARGE: BenefitKind.INPATIENT,
        BenefitKind.PHARMACY_CHRONIC: BenefitKind.GENERAL_OUTPATIENT,
    }


def test_pharmacy_kind_by_context():
    """A pharmacy purchase on a discharge prescription is the pharmacy_inpatient_discharge kind."""
    assert TEXTBOOK.pharmacy_kind(PrescribingContext.INPATIENT_DISCHARGE) is BenefitKind.PHARMACY_INPATIENT_DISCHARGE


def test_b_class_ratio_override_and_default():
    """A per-item 先行自付 ratio overrides the region's default 10 %."""
    assert (TEXTBOOK.b_class_ratio("TEXTBOOK-B15"), TEXTBOOK.b_class_ratio("OTHER")) == (
        Decimal("0.15"),
        Decimal("0.10"),
    )


def test_tier_levels():
    """Changchun's two 三级 tiers are both facility level 3; an unknown tier has none."""
    assert (CHANGCHUN.tier_level("市属三级"), CHANGCHUN.tier_level("省级三级"), CHANGCHUN.tier_level("社区")) == (
        3,
        3,
        None,
    )


def test_models_are_frozen():
    """A loaded policy cannot be changed in place."""
    with pytest.raises(ValueError, match="frozen"):
        TEXTBOOK.label = "changed"
