"""Reports from stored results: a dashboard PNG and an HTML page per run."""

from sim.report.run_report import write_run_report

__all__ = ["write_run_report"]
