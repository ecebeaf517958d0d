"""Trust tests (a package: other test packages import its signers)."""
