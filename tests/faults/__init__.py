"""Faults injected into real processes: a database that goes away under load, and what clients see."""
