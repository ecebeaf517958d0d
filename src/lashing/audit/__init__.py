"""`lashing audit`: the four surfaces from one config file into one report.

lashing.rules is imported first: its registry lists this package's
LSH-NET-201 rule (lashing.audit.escalation), whose module imports the rule
framework, so the registry must be importing when the rule module loads.
"""

from __future__ import annotations

import lashing.rules  # noqa: F401  (import order; see above)
