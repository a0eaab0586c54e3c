"""ACTIO SMS API simulator for tests, the demo and benchmarks."""

from .server import FAULTS, OutboxItem, SimState, Simulator, Token, run_simulator

__all__ = ["FAULTS", "OutboxItem", "SimState", "Simulator", "Token", "run_simulator"]
