"""lashing watch tests against a real engine (a package: its conftest needs its own name)."""
