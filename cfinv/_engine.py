"""
The engine of one Invalidator: the parts every call on it shares.

One `Engine` per `Invalidator` holds the gateway (and through it the
client), the in-progress budget, the poller, discovery, the create pacer,
the retry loop, event delivery and the runtime.  Calls (`cfinv._run.Run`)
use these parts; none of them holds a reference back to the Invalidator.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, Literal

from cfinv._budget import Budget
from cfinv._discovery import Discovery, discovery_denied_message
from cfinv._emitter import Emitter
from cfinv._loop import LoopLocal
from cfinv._packing import RequestCap
from cfinv._poller import Poller
from cfinv._retrying import Retrier
from cfinv.errors import AccessDenied

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from opentelemetry.trace import TracerProvider

    from cfinv._gateway import Gateway, Tally
    from cfinv._references import References
    from cfinv.events import Event
    from cfinv.models import Invalidation, Limits
    from cfinv.pacing import CreatePacer
    from cfinv.policies import PollPolicy, RetryPolicy
    from cfinv.runtime import Runtime

__all__ = ["Engine"]

log = logging.getLogger("cfinv")


class Engine:
    """
    What the calls of one Invalidator share, wired once.

    Args:
        gateway: The CloudFront calls (the client's one owner).
        runtime: Clocks, sleep and randomness.
        limits: The in-progress budget.
        retry: How failed calls are retried.
        poll: How completion is checked.
        pacer: The account's CreateInvalidation pacer.
        on_event: The caller's event callback.
        references: Makes the CallerReferences, and tells this deploy's.
        discovery: Read what other writers (and earlier runs of the deploy)
            have in progress before sending; ``False`` reads nothing.
        tracer_provider: Where spans go (see `cfinv.telemetry`).
    """

    def __init__(
        self,
        *,
        gateway: Gateway,
        runtime: Runtime,
        limits: Limits,
        retry: RetryPolicy,
        poll: PollPolicy,
        pacer: CreatePacer,
        on_event: Callable[[Event], Any] | None,
        references: References,
        discovery: bool = True,
        tracer_provider: TracerProvider | Literal[False] | None = None,
    ) -> None:
        self.gateway = gateway
        self.runtime = runtime
        self.limits = limits
        self.poll = poll
        self.pacer = pacer
        self.references = references
        self.emitter = Emitter(runtime, on_event, tracer_provider=tracer_provider)
        self.retrier = Retrier(retry, runtime, self.emitter, gateway.target_id)
        self.budget = Budget(limits)
        #: The most paths one request may carry, as known or learned (kept across calls).
        self.cap = RequestCap(limits)
        self.poller = Poller(
            gateway=gateway,
            budget=self.budget,
            policy=poll,
            runtime=runtime,
            retrier=self.retrier,
            emitter=self.emitter,
        )
        self.discovery = Discovery(gateway, self.retrier, runtime)
        #: Every invalidation this Invalidator created, as last seen, oldest first.
        self.submitted: dict[str, Invalidation] = {}
        self._discovering = LoopLocal(asyncio.Lock)
        #: Whether discovery runs: off when asked, or once CloudFront denied it.
        self.discovering = discovery
        self.poller.adopting = discovery

    @property
    def target_id(self) -> str:
        """The distribution (or tenant) id."""
        return self.gateway.target_id

    async def discover(self, *, tallies: Sequence[Tally] = ()) -> int:
        """
        Follow every invalidation of other writers in progress; return how many were new.

        Concurrent calls discover once: the second waits for the first and
        reads only what appeared since.
        """
        async with self._discovering.get():
            if not self.discovering:  # off, or denied (perhaps to the call just before)
                return 0
            try:
                found = await self.discovery.in_progress(self.poller, tallies=tallies)
            except AccessDenied as denied:
                if not self._degrade(denied):
                    raise
                return 0
            return self._follow_others(found, tallies)

    async def survey(self, *, tallies: Sequence[Tally] = ()) -> list[Invalidation]:
        """
        Discover as `discover` does, and return what earlier runs of this deploy created.

        Reads every invalidation back to a day before (see
        `cfinv._discovery.DEPLOY_HORIZON`), oldest first in the result.
        """
        async with self._discovering.get():
            if not self.discovering:
                return []
            try:
                deploy, others = await self.discovery.survey(
                    self.poller, self.references, tallies=tallies
                )
            except AccessDenied as denied:
                if not self._degrade(denied):
                    raise
                return []
            self._follow_others(others, tallies)
            return deploy

    def _degrade(self, denied: AccessDenied) -> bool:
        """
        Whether to go on without discovery after ``denied``: then say so once, never ask again.

        Only a plain ``AccessDenied`` (a policy without the action) degrades;
        bad credentials (its subclasses) fail the call, as the create would.
        """
        if type(denied) is not AccessDenied:
            return False
        self.discovering = self.poller.adopting = False
        if denied.operation == self.gateway.list_operation:
            self.poller.list_denied = True  # poll with GetInvalidation, not a second refusal
        log.warning(discovery_denied_message(self.gateway, denied, self.references.deploy_id))
        return True

    def _follow_others(self, found: list[Invalidation], tallies: Sequence[Tally]) -> int:
        fresh = [i for i in found if i.id not in self.poller]
        for invalidation in fresh:
            self.poller.follow(invalidation, tally=tallies[0] if tallies else None)
        if fresh:
            log.info(
                "%d invalidation(s) of other writers in progress on %s", len(fresh), self.target_id
            )
        return len(fresh)
