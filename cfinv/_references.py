"""
CallerReferences: made fresh for every batch, and carrying the deploy id when there is one.

Without a deploy id a reference reads ``cfinv-<UTC time>-<batch>-<64 random bits>``.
With one it reads ``cfinv:<deploy id>:<batch>:<64 random bits>``, so that a later
run of the same deploy (after a crash, a kill or a retried CI job) recognises
every invalidation of the deploy by its reference alone, whatever batches the
earlier run happened to cut.  References from a ``caller_reference=`` function
are recognised too, by the numbers they were made for.  Pure logic, no I/O.
"""

from __future__ import annotations

import contextlib
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from cfinv.runtime import Runtime

__all__ = ["CUSTOM_LOOKAHEAD", "DEPLOY_ID_MAX", "References", "check_deploy_id"]

#: The longest deploy id: with the prefix, the batch number and the random part,
#: a reference stays well under 128 characters.
DEPLOY_ID_MAX = 64
#: With a caller_reference= function, how many batch numbers a run looks for
#: among earlier invalidations.
CUSTOM_LOOKAHEAD = 1000
_DEPLOY_ID = re.compile(r"[A-Za-z0-9._-]+")


def check_deploy_id(value: object) -> str:
    """
    Return ``value`` if it is a usable deploy id, else raise a `ValueError` naming it.

    A deploy id is 1 to 64 characters of ASCII letters, digits, ``.``, ``_`` and
    ``-``: safe in a CallerReference, and free of the ``:`` that separates its parts.
    """
    if not isinstance(value, str):
        msg = f"deploy_id must be a string, got {value!r} ({type(value).__name__})"
        raise TypeError(msg)
    if not value or len(value) > DEPLOY_ID_MAX or not _DEPLOY_ID.fullmatch(value):
        shown = value if len(value) <= DEPLOY_ID_MAX + 16 else value[:DEPLOY_ID_MAX] + "..."
        msg = (
            f"invalid deploy id {shown!r}: use 1 to {DEPLOY_ID_MAX} characters of ASCII "
            "letters, digits, '.', '_' and '-' (a CI run id, say)"
        )
        raise ValueError(msg)
    return value


class References:
    """
    Makes the CallerReference of each batch, and recognises those of one deploy.

    Args:
        runtime: The wall clock and random source of the references.
        prefix: Their readable start (``cfinv``).
        deploy_id: The deploy every reference carries, if any (checked).
        custom: Makes the reference of batch ``i`` instead (no deploy id then).
    """

    def __init__(
        self,
        runtime: Runtime,
        *,
        prefix: str = "cfinv",
        deploy_id: str | None = None,
        custom: Callable[[int], str] | None = None,
    ) -> None:
        if custom is not None and deploy_id is not None:
            msg = (
                "pass either caller_reference= or deploy_id=, not both: with a deploy id, "
                "cfinv makes the references (they carry the id)"
            )
            raise ValueError(msg)
        self._runtime = runtime
        self._prefix = prefix
        self.deploy_id = None if deploy_id is None else check_deploy_id(deploy_id)
        self._custom = custom
        self._head = f"{prefix}:{self.deploy_id}:" if self.deploy_id is not None else None
        self._known: dict[str, int] | None = None

    def make(self, index: int) -> str:
        """
        A fresh reference for batch ``index``.

        Raises:
            ValueError: A ``custom`` function gave something other than a
                non-empty string.
        """
        if self._custom is not None:
            made: object = self._custom(index)
            if not isinstance(made, str) or not made.strip():
                msg = f"caller_reference({index}) must give a non-empty string, got {made!r}"
                raise ValueError(msg)
            return made
        suffix = f"{index:04d}-{self._runtime.random.getrandbits(64):016x}"
        if self._head is not None:
            return self._head + suffix.replace("-", ":")
        stamp = self._runtime.now().strftime("%Y%m%dT%H%M%SZ")
        return f"{self._prefix}-{stamp}-{suffix}"

    @property
    def resumable(self) -> bool:
        """Whether a run can tell what earlier runs created (a deploy id, or custom references)."""
        return self._head is not None or self._custom is not None

    def of_deploy(self, reference: str) -> bool:
        """Whether ``reference`` was made for this deploy (by any run of it)."""
        if self._head is not None:
            return reference.startswith(self._head)
        return reference in self._custom_numbers()

    def next_index(self, references: Iterable[str]) -> int:
        """The first batch number after those of ``references`` (0 if none)."""
        numbers = [self._number(reference) for reference in references]
        return 1 + max((n for n in numbers if n is not None), default=-1)

    def _number(self, reference: str) -> int | None:
        if self._head is not None and reference.startswith(self._head):
            number = reference[len(self._head) :].split(":", 1)[0]
            return int(number) if number.isdigit() else None
        return self._custom_numbers().get(reference)

    def _custom_numbers(self) -> dict[str, int]:
        """Reference -> batch number, for the first `CUSTOM_LOOKAHEAD` numbers of ``custom``."""
        if self._known is None:
            self._known = {}
            if self._custom is not None:
                # A function that fails somewhere (a list of references, say): stop there.
                with contextlib.suppress(Exception):
                    for index in range(CUSTOM_LOOKAHEAD):
                        self._known.setdefault(self._custom(index), index)
        return self._known
