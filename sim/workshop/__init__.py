"""Workshop rooms: a participatory simulation where each participant plays one actor.

Like NetLogo's HubNet or role-playing simulations such as LittoSIM: a facilitator opens
rounds, each participant decides for its role (a municipality's public organisation, a
civil-society organisation, a funder, the national mandate holder), the shared model runs
the round, and the debrief sets the room's run beside the same scenario on autopilot with
the same seed (common random numbers). See ``docs/workshop.md``.

Modules: :mod:`~sim.workshop.roles` (who plays which agents), :mod:`~sim.workshop.decisions`
(the decision -> state change layer, testable without a browser), :mod:`~sim.workshop.room`
(the server-side room: rounds, tokens, saving and replay), :mod:`~sim.workshop.debrief`
(room beside autopilot, report.html, decisions.parquet), :mod:`~sim.workshop.server`
(the Starlette app) and :mod:`~sim.workshop.cli` (``sim workshop``).
"""
