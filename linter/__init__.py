"""iaclint: an infrastructure-as-code policy linter for container security."""
__version__ = "0.1.0"
