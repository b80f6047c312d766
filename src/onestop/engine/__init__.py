"""The settlement engine: pure, deterministic, staged.

``settle_funds`` → for each commercial payer in bill order ``FundsState.offer_for`` → the payer's
answer → ``apply_commercial`` → ``finalize``. No I/O, no gRPC, no database: the gateway, the
simulator and the fake payer centres all drive these same functions. :func:`settle` runs every
stage in-process with payers given as plain functions.
"""

from onestop.engine._check import SettlementInvariantError, check_settlement
from onestop.engine._receipt import receipt
from onestop.engine._run import InProcessPayer, settle
from onestop.engine._split import Reason
from onestop.engine._stages import FundsState, apply_commercial, finalize, settle_funds

__all__ = [
    "FundsState",
    "InProcessPayer",
    "Reason",
    "SettlementInvariantError",
    "apply_commercial",
    "check_settlement",
    "finalize",
    "receipt",
    "settle",
    "settle_funds",
]
