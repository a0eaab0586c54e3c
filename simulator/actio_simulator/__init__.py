"""ACTIO SMS API simulator for tests, the demo and benchmarks."""

from .server import (
    DIALECTS,
    FAULTS,
    OutboxItem,
    SimState,
    Simulator,
    Token,
    run_simulator,
)

__all__ = [
    "DIALECTS",
    "FAULTS",
    "OutboxItem",
    "SimState",
    "Simulator",
    "Token",
    "run_simulator",
]
