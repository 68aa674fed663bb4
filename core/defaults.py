"""Defaults shared by report.yaml's schema and the command line (a light module: no pandas,
no pydantic, so ``roistory --help`` can show them without loading the engine)."""

LOOKBACK_DAYS = 90  # touches this long before a conversion still count
DORMANCY_DAYS = 180  # a gap this long between a person's events starts a new journey
