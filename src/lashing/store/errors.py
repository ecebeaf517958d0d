"""The results store's errors: each is also the LashingError kind that sets
the exit status (bad input 2, environment 3)."""

from __future__ import annotations

from lashing.errors import EnvironmentFailure, InputError, LashingError


class StoreError(LashingError):
    """Base of every results-store error."""


class StoreInputError(StoreError, InputError):
    """A store spec, a file that is not a store, or an unknown run (exit 2)."""


class StoreUnavailable(StoreError, EnvironmentFailure):
    """The store cannot be used: server unreachable, schema too new, disk full (exit 3)."""
