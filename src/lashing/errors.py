"""One error hierarchy. Each error carries a one-line message naming the input,
an optional hint saying what to do, and the exit code of DESIGN's table."""

from __future__ import annotations

EXIT_OK = 0
EXIT_GATE = 1
EXIT_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INCOMPLETE = 4


class LashingError(Exception):
    """Base of every error a user can cause; caught once in cli.py."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def diagnostics(self) -> str:
        text = f"error: {self.message}"
        if self.hint:
            text += f"\nhint: {self.hint}"
        return text


class InputError(LashingError):
    """The command line or an input file was wrong (exit 2)."""

    exit_code = EXIT_INPUT


class HostileInputError(InputError):
    """An input tried something dangerous: path traversal, a decompression
    bomb, a link leaving the tree. Refused (exit 2)."""


class DigestMismatchError(InputError):
    """Content did not match the digest that names it (exit 2)."""


class LimitExceededError(HostileInputError):
    """A configured limit on untrusted input was exceeded (exit 2)."""


class EnvironmentFailure(LashingError):
    """The environment failed: registry or network unreachable, disk full (exit 3)."""

    exit_code = EXIT_ENVIRONMENT


class RegistryError(EnvironmentFailure):
    """A registry answered with an error or could not be reached (exit 3)."""


class ManifestUnknownError(RegistryError):
    """The registry answered 404 for a manifest: no such tag or digest (exit 3)."""
