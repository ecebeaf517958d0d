"""Reading a build host's state: files under --root (HostView), their parsers,
the live system when the root is /, and the host's own packages.

The rule framework is imported first: the host rules (lashing.rules.host)
import this package's subject module, and lashing.rules imports them.
"""

from __future__ import annotations

import lashing.rules  # noqa: F401  (import order: see the docstring)
