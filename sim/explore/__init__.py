"""Experiments at scale: sweeps, sensitivity analysis, comparison and calibration.

Everything here goes through the public entry :func:`sim.api.run`; nothing reaches
into the model. The pieces:

``experiment``  the experiment file (pydantic schema, TOML loading, errors)
``design``      design points (grid, Latin hypercube, Sobol/Saltelli, Morris via SALib)
                and seeds (one root ``SeedSequence``, common random numbers)
``executors``   in-process, process pool and Dask behind ``concurrent.futures``
``runner``      the picklable unit of work: one scenario, one seed, one run
``store``       the resumable Parquet store of a sweep (atomic parts, failures, manifest)
``sweep``       the sweep loop tying the above together
``analyze``     Sobol / Morris indices with confidence intervals, tables and plots
``compare``     scenarios side by side with common random numbers and paired CIs
``levers``      the registry of strategist-facing levers and the lever report (low / default / high)
``calibrate``   point fits (scipy) and ABC-SMC (pyabc) of parameters to observed series
``function``    the model as a plain Python function (for EMA Workbench and friends)
"""
