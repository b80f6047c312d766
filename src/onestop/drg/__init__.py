"""CHS-DRG grouping and DRG payment.

``group(case)`` chooses the grouper configured for the case's region and discharge date (or takes the
region's ``DrgSettings``) and answers a :class:`GroupResult` with an explanation trace; ``pay(result, case,
settings)`` gives the group standard, the cost class and special-case review. Both are pure. The engine uses
``case_from_bill`` and ``drg_section_for``; ``onestop drg group`` runs a CSV of cases.

CHS-DRG 1.1 with the Harbin weights and base rates (public tables) is the only scheme packaged; regions and
dates without DRG settings get :class:`~onestop.errors.NoGrouper`.
"""

from onestop.drg.api import group, group_with, pay
from onestop.drg.batch import BatchRow, group_csv
from onestop.drg.bridge import case_from_bill, drg_section_for
from onestop.drg.case import Case
from onestop.drg.csvio import INPUT_OPTIONAL, INPUT_REQUIRED, OUTPUT_COLUMNS, RowError, parse_case_row
from onestop.drg.grouper import SCHEME_CHS_DRG_11, ChsDrg11Grouper
from onestop.drg.payment import CostClass, Payment
from onestop.drg.registry import SCHEMES, Grouper, grouper_for, grouper_for_settings, settings_for
from onestop.drg.result import GroupResult, GroupStatus
from onestop.drg.settings import CidlHandling, DrgSettings, LowRatioPayment, PaymentMode
from onestop.drg.tables import DrgTables, load_tables

__all__ = [
    "INPUT_OPTIONAL",
    "INPUT_REQUIRED",
    "OUTPUT_COLUMNS",
    "SCHEMES",
    "SCHEME_CHS_DRG_11",
    "BatchRow",
    "Case",
    "ChsDrg11Grouper",
    "CidlHandling",
    "CostClass",
    "DrgSettings",
    "DrgTables",
    "GroupResult",
    "GroupStatus",
    "Grouper",
    "LowRatioPayment",
    "Payment",
    "PaymentMode",
    "RowError",
    "case_from_bill",
    "drg_section_for",
    "group",
    "group_csv",
    "group_with",
    "grouper_for",
    "grouper_for_settings",
    "load_tables",
    "parse_case_row",
    "pay",
    "settings_for",
]
