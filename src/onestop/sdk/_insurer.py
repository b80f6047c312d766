"""The insurer adapter contract: a base class with one single-argument async method per flow."""

from __future__ import annotations

from typing import ClassVar

from onestop.errors import InvalidRequest, UnsupportedFlow
from onestop.money import Fen
from onestop.sdk._capabilities import Capabilities
from onestop.sdk._clock import SYSTEM_CLOCK, Clock
from onestop.sdk._config import AdapterConfig
from onestop.sdk._flows import InsurerFlow
from onestop.sdk._insurer_models import (
    CancelInput,
    CancelResult,
    EligibilityInput,
    EligibilityResult,
    PreSettleInput,
    PreSettleResult,
    QueryInput,
    QueryResult,
    ReconcileInput,
    ReconcileResult,
    SettleInput,
    SettleResult,
)
from onestop.sdk._state import StateStore
from onestop.sdk._wire import amount_from_wire, amount_to_wire

__all__ = ["InsurerAdapter"]


class InsurerAdapter:
    """Base class of a commercial insurer adapter.

    Subclass it, set the three class attributes and implement the flows you declare::

        class AcmeAdapter(InsurerAdapter):
            name = "acme"
            Config = AcmeConfig
            capabilities = Capabilities(
                flows=frozenset({InsurerFlow.PRE_SETTLE, InsurerFlow.SETTLE, InsurerFlow.QUERY, InsurerFlow.CANCEL}),
                categories=frozenset({Category.FULAMT_OWNPAY, Category.CIDL}),
            )

            async def settle(self, inp: SettleInput) -> SettleResult: ...

    Rules every adapter keeps (the conformance kit checks them):

    * settle is idempotent by ``offer.reference``: a replay returns the first result and pays once;
    * pre_settle and settle answer the same payments for the same input;
    * query finds a leg by the gateway's reference; ``found=False`` only when the insurer is sure;
    * an insurer status is mapped with an explicit :class:`~onestop.sdk.StatusMapping` (unknown → PENDING);
    * errors: raise :class:`~onestop.errors.PayerUnavailable` when nothing reached the insurer,
      :class:`~onestop.errors.PayerTimeout` when the outcome is unknown, and answer business declines
      inside the result (status DECLINED with a reason), not as exceptions.

    Attributes:
        name: The entry-point name (short, lower case); also the payer name in offers.
        capabilities: What the adapter supports; checked at load.
        Config: The adapter's configuration model (secrets as ``SecretStr``).
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities]
    Config: ClassVar[type[AdapterConfig]] = AdapterConfig

    def __init__(self, config: AdapterConfig, *, state: StateStore | None = None, clock: Clock | None = None) -> None:
        """Build the adapter.

        Args:
            config: An instance of the adapter's ``Config``.
            state: The host's state store; required when ``capabilities.stateful``.
            clock: Time source (tests pass a fake clock).

        Raises:
            InvalidRequest: When the config is of the wrong type or a stateful adapter gets no store.
        """
        if not isinstance(config, self.Config):
            raise InvalidRequest(
                f"adapter {self.name!r} needs a {self.Config.__name__} config, got {type(config).__name__}"
            )
        if self.capabilities.stateful and state is None:
            raise InvalidRequest(f"adapter {self.name!r} is stateful and needs a StateStore")
        self.config = config
        self.state = state
        self.clock: Clock = clock or SYSTEM_CLOCK

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # Required flows --------------------------------------------------------------------------

    async def pre_settle(self, inp: PreSettleInput) -> PreSettleResult:
        """Trial: what would be paid for ``inp.offer``; no payment and no state change."""
        raise NotImplementedError(f"{type(self).__name__}.pre_settle must be implemented")

    async def settle(self, inp: SettleInput) -> SettleResult:
        """Pay ``inp.offer``; a replay with the same reference returns the first result."""
        raise NotImplementedError(f"{type(self).__name__}.settle must be implemented")

    async def query(self, inp: QueryInput) -> QueryResult:
        """The leg with the gateway's reference, or ``found=False`` when the insurer has none."""
        raise NotImplementedError(f"{type(self).__name__}.query must be implemented")

    async def cancel(self, inp: CancelInput) -> CancelResult:
        """Undo the leg (cancel or refund); idempotent."""
        raise NotImplementedError(f"{type(self).__name__}.cancel must be implemented")

    # Optional flows --------------------------------------------------------------------------

    async def eligibility(self, inp: EligibilityInput) -> EligibilityResult:
        """Eligibility and remaining benefits (optional flow)."""
        raise UnsupportedFlow(f"adapter {self.name!r} does not offer eligibility", metadata={"flow": "eligibility"})

    async def reconcile(self, inp: ReconcileInput) -> ReconcileResult:
        """Daily totals (optional flow)."""
        raise UnsupportedFlow(f"adapter {self.name!r} does not offer reconcile", metadata={"flow": "reconcile"})

    # Helpers ---------------------------------------------------------------------------------

    def supports(self, flow: InsurerFlow) -> bool:
        """True when the adapter declares ``flow``."""
        return flow in self.capabilities.flows

    def amount_to_wire(self, amount: int) -> int | str:
        """``amount`` in the insurer's declared unit (see :class:`~onestop.sdk.AmountUnit`)."""
        return amount_to_wire(amount, self.capabilities.amount_unit)

    def amount_from_wire(self, value: object) -> Fen:
        """An amount from the insurer's wire, as fen."""
        return amount_from_wire(value, self.capabilities.amount_unit)

    async def aclose(self) -> None:
        """Release connections; the host calls it once when done."""
