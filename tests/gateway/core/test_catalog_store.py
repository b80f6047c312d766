"""The gateway prices with the catalog store ``onestop catalog import`` loads, when the settings name one."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from gateway.core.gwcore_helpers import HOSPITAL, bill_doc, make_bill

from onestop.catalog import open_catalogs
from onestop.catalog.cli import catalog
from onestop.gateway import Caller, Gateway
from onestop.gateway.server import gateway_config
from onestop.gateway.settings import load_settings

HEADER = "edition,med_list_codg,catalog_no,drug_genname,drug_dosform,drug_spec,section,chrgitm_lv,memo,category_code,fixture\n"
NEW = "XA99AFX0001000000000000"


def test_a_drug_imported_into_the_store_is_in_catalog_for_the_gateway(tmp_path: Path) -> None:
    """catalog_url in the serve settings: a drug imported with `onestop catalog import` settles as in catalog;
    without it the packaged catalogs know nothing of the drug."""
    url = f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    open_catalogs(url)  # seeded from the packaged data
    f = tmp_path / "drugs.csv"
    f.write_text(HEADER + f"nrdl-2025,{NEW},1,新药,片剂,,西药部分,乙,,XA99A,1\n", encoding="utf-8")
    assert CliRunner().invoke(catalog, ["import", str(f), "--kind", "drug", "--url", url]).exit_code == 0
    doc = bill_doc()
    doc["lines"][0].update(national_code=NEW, name="新药", category="09")
    bill = make_bill(doc)

    def in_catalog(**settings: str) -> bool:
        s = load_settings(None, env={}, dev=True, port=0, database_url=f"sqlite:///{tmp_path / 'gw.db'}", **settings)
        gw = Gateway.open(gateway_config(s, data_dir=tmp_path))
        try:
            line = gw.pre_settle(Caller(HOSPITAL), bill).lines
        finally:
            gw.close()
        return next(ln for ln in line if ln.feedetl_sn == doc["lines"][0]["feedetl_sn"]).in_catalog

    assert in_catalog(catalog_url=url)
    assert not in_catalog()
