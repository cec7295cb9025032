"""
Packing: how many paths go into the next batch, decided when it is sent.

Pure logic, no I/O.  `next_batch` is the one rule, used by `cfinv.plan_paths`
(for the batches an idle distribution would get) and by each call's run (for
the batch it sends now, sized to the capacity free at that moment).
`RequestCap` learns the most paths one request may carry from the endpoint's
``BatchTooLarge`` answers.  `Work` holds the paths still to send.

The rule against floods of tiny batches: every batch spends a token of the
account's CreateInvalidation rate (about one every two seconds), so a batch
is sent only when it carries all the paths left, or at least `MIN_SHARE` of
either in-progress limit (300 files or 2 wildcards by default), or as many
paths as one request may carry.  Otherwise it waits for more capacity to
free up.
"""

from __future__ import annotations

import collections
import math
from typing import TYPE_CHECKING

from cfinv.models import Paths, is_wildcard

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from cfinv.models import Limits

__all__ = ["MIN_SHARE", "RequestCap", "Work", "next_batch"]

#: The smallest batch worth a create, as a share of each in-progress limit.
MIN_SHARE = 0.1


def next_batch(
    files_left: int,
    wildcards_left: int,
    free_files: int,
    free_wildcards: int,
    *,
    limits: Limits,
    per_request: int | None,
) -> tuple[int, int] | None:
    """
    The (files, wildcards) of the batch to send now, or ``None`` to wait for capacity.

    Args:
        files_left: File paths (and tags) still to send.
        wildcards_left: Wildcard paths still to send.
        free_files: File paths that may go in progress now.
        free_wildcards: Wildcard paths that may go in progress now.
        limits: The in-progress limits (their `MIN_SHARE` is the smallest batch).
        per_request: The most paths one request may carry, if known.
    """
    files = max(0, min(files_left, free_files, limits.files))
    wildcards = max(0, min(wildcards_left, free_wildcards, limits.wildcards))
    if per_request is not None and files + wildcards > per_request:
        # Wildcard slots are the scarcer capacity: keep them, trim files.
        wildcards = min(wildcards, per_request)
        files = per_request - wildcards
    if files + wildcards == 0:
        return None
    everything = files == files_left and wildcards == wildcards_left
    full_request = per_request is not None and files + wildcards == per_request
    enough = files >= math.ceil(MIN_SHARE * limits.files) or wildcards >= math.ceil(
        MIN_SHARE * limits.wildcards
    )
    return (files, wildcards) if everything or full_request or enough else None


class RequestCap:
    """
    The most paths (files and wildcards together) one CreateInvalidation may carry.

    CloudFront documents no per-request maximum beyond its in-progress limits,
    but an endpoint may enforce one (answering 413 ``BatchTooLarge``).  From
    the answers it learns the cap: after a refusal it tries the file limit
    (a plausible cap "in total"), then halves the gap between the largest
    request accepted and the smallest refused, and stops once that gap is
    within 5 % of what is accepted.

    Args:
        limits: Its ``paths_per_request`` is the cap known up front.
    """

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self.refused: int | None = None  # the smallest size answered BatchTooLarge
        self.accepted = 0  # the largest size accepted since the first refusal

    def __repr__(self) -> str:
        return f"RequestCap(size={self.size}, refused={self.refused}, accepted={self.accepted})"

    @property
    def size(self) -> int | None:
        """The most paths to put in the next request (``None``: no cap beyond the limits)."""
        known = self._limits.paths_per_request
        if self.refused is None:
            return known
        below = self.refused - 1  # at least 1: a refusal of a single path teaches no cap
        if self.accepted and below - self.accepted <= max(1, self.accepted // 20):
            learned = self.accepted
        elif self.accepted < self._limits.files <= below:
            learned = self._limits.files
        else:
            learned = (self.accepted + below + 1) // 2
        return learned if known is None else min(known, learned)

    def was_refused(self, size: int) -> None:
        """
        A request of ``size`` paths (two or more) was answered ``BatchTooLarge``.

        A single path refused so is too large in itself, not a count over a
        cap: the caller reports it rather than teaching the cap.
        """
        if size < 2:  # noqa: PLR2004 - see the docstring
            msg = f"a refusal of {size} path(s) says nothing about a per-request cap"
            raise ValueError(msg)
        self.refused = size if self.refused is None else min(self.refused, size)
        self.accepted = min(self.accepted, size - 1)

    def was_accepted(self, size: int) -> None:
        """A request of ``size`` paths was accepted."""
        if self.refused is not None:
            self.accepted = max(self.accepted, size)


class Work:
    """
    The paths one call still has to send: files (and tags) and wildcards, in plan order.

    Batches are cut from the front; paths of a batch that was refused go back
    to the front, so nothing is lost or sent twice.

    Args:
        paths: The paths to send (normalised, deduplicated).
    """

    def __init__(self, paths: Iterable[str]) -> None:
        self._files: collections.deque[str] = collections.deque()
        self._wildcards: collections.deque[str] = collections.deque()
        for path in paths:
            (self._wildcards if is_wildcard(path) else self._files).append(path)

    def __bool__(self) -> bool:
        return bool(self._files or self._wildcards)

    @property
    def files(self) -> int:
        """File paths (and tags) left."""
        return len(self._files)

    @property
    def wildcards(self) -> int:
        """Wildcard paths left."""
        return len(self._wildcards)

    def take(self, files: int, wildcards: int) -> Paths:
        """Cut a batch of ``files`` file paths and ``wildcards`` wildcards from the front."""
        taken = [self._files.popleft() for _ in range(min(files, len(self._files)))]
        taken += [self._wildcards.popleft() for _ in range(min(wildcards, len(self._wildcards)))]
        return Paths(taken)

    def drop(self, done: Callable[[str], bool]) -> int:
        """Forget the paths ``done`` says need not be sent; return how many are left."""
        self._files = collections.deque(p for p in self._files if not done(p))
        self._wildcards = collections.deque(p for p in self._wildcards if not done(p))
        return len(self._files) + len(self._wildcards)

    def give_back(self, paths: Paths) -> None:
        """Put a batch that was not sent back at the front, in its order."""
        for path in reversed(paths.items):
            (self._wildcards if is_wildcard(path) else self._files).appendleft(path)

    def chunks(self, limits: Limits, per_request: int | None) -> list[Paths]:
        """What is left, cut as an idle distribution would take it (for reports)."""
        left = Work(list(self._files) + list(self._wildcards))
        batches = []
        while left:
            size = next_batch(
                left.files,
                left.wildcards,
                limits.files,
                limits.wildcards,
                limits=limits,
                per_request=per_request or None,
            )
            assert size is not None  # noqa: S101 - a full budget always takes something
            batches.append(left.take(*size))
        return batches
