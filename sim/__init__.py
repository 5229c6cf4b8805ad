"""sim: an agent-based simulation of how social innovations are created, spread and scaled.

The public entry is :mod:`sim.api` (``run``, ``build_model``); parameters live in
:mod:`sim.scenario`; the model in :mod:`sim.model`.
"""

__version__ = "0.1.0"
