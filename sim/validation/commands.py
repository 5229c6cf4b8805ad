"""The ``sim validate`` and ``sim calibrate`` commands (registered by :mod:`sim.cli`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

CHECK_NAMES = ("bass", "bass_closed_form", "sis", "watts", "centola", "granovetter", "reference", "calibration")


def _selected(name: str, only: list[str] | None) -> bool:
    """``--only bass`` selects both Bass checks; other names select themselves."""
    return not only or any(name == o or name.startswith(o + "_") for o in only)


def register(app: typer.Typer) -> None:
    """Add ``validate`` and ``calibrate`` to the command line."""

    @app.command("validate")
    def validate_cmd(
        out: Annotated[Path, typer.Option("--out", help="Folder for validation.md and img/validation/*.png.")] = Path(
            "validation"
        ),
        quick: Annotated[bool, typer.Option("--quick", help="Fewer replicates and smaller networks (CI).")] = False,
        only: Annotated[
            list[str] | None, typer.Option("--only", help=f"Run only these checks: {', '.join(CHECK_NAMES)}.")
        ] = None,
        set_: Annotated[
            list[str] | None,
            typer.Option("--set", help="Override a parameter of the selected limit scenarios: dotted.key=value."),
        ] = None,
    ) -> None:
        """Run the validation limits, the reference comparison and the calibration; write a report.

        Exits 1 if any judged row fails (2 on a bad option).
        """
        from sim.cli import begin_output_or_exit, console, fail
        from sim.outdir import commit_output, discard_output
        from sim.scenario import ScenarioError
        from sim.validation.holdout import calibrate_simulated, calibrate_study
        from sim.validation.limits import CHECKS, QUICK, Sizes
        from sim.validation.report import IMG_SUBDIR, all_passed, write_report

        bad = [o for o in only or [] if not any(n == o or n.startswith(o + "_") for n in CHECK_NAMES)]
        if bad:
            fail(f"--only: unknown check(s) {bad}; choose from {', '.join(CHECK_NAMES)}")
        sizes = QUICK if quick else Sizes()
        final, out = out, begin_output_or_exit(out, merge=True)  # written whole into a temporary sibling
        img_dir = out / IMG_SUBDIR
        t0 = time.perf_counter()
        results = []
        for name, fn in CHECKS.items():
            if not _selected(name, only):
                continue
            t = time.perf_counter()
            try:
                res = fn(list(set_ or []), sizes, img_dir)
            except ScenarioError as err:
                discard_output(out)
                fail(str(err))
            results.append(res)
            mark = "[green]pass[/]" if res.passed else "[bold red]FAIL[/]"
            console.print(f"{mark} {res.title} ({time.perf_counter() - t:.1f} s)")
        calibrations = []
        if _selected("calibration", only):
            for study in ("medInnovations", "brfarmers"):
                t = time.perf_counter()
                c = calibrate_study(study, sims=sizes.calibration_sims, img_dir=img_dir)
                calibrations.append(c)
                mark = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
                console.print(f"{mark} calibration {study} ({time.perf_counter() - t:.1f} s)")
            t = time.perf_counter()
            c = calibrate_simulated(sims=sizes.calibration_sims, img_dir=img_dir)
            calibrations.append(c)
            mark = "[green]pass[/]" if c.passed else "[bold red]FAIL[/]"
            console.print(f"{mark} calibration {c.study} ({time.perf_counter() - t:.1f} s)")
        note = "Quick sizes (`--quick`): fewer replicates and smaller networks." if quick else ""
        if set_:
            note += " Overrides: " + ", ".join(f"`{s}`" for s in set_) + "."
        write_report(out, results, calibrations, note.strip(), time.perf_counter() - t0)
        commit_output(out, final, merge=True)
        ok = all_passed(results, calibrations)
        console.print(f"wrote {final / 'validation.md'} and {final / IMG_SUBDIR}/*.png; "
                      f"{'all rows pass' if ok else 'SOME ROWS FAIL'}")
        if not ok:
            raise typer.Exit(1)

    @app.command("calibrate")
    def calibrate_cmd(
        study: Annotated[
            str | None, typer.Option("--study", help="A shipped study: medInnovations, brfarmers or all (default all).")
        ] = None,
        nodes: Annotated[Path | None, typer.Option("--nodes", help="Nodes CSV of your study (data/README.md).")] = None,
        edges: Annotated[Path | None, typer.Option("--edges", help="Edges CSV of your own study.")] = None,
        name: Annotated[str | None, typer.Option("--name", help="Name of your study (default: from the nodes file).")] = None,
        time_unit: Annotated[str, typer.Option("--time-unit", help="month, year or period (your study's period).")] = "period",
        holdout: Annotated[
            str, typer.Option("--holdout", help="all (leave each community out in turn), none, or a community id.")
        ] = "all",
        sims: Annotated[int, typer.Option("--sims", help="Simulations per prediction band (>= 10).")] = 400,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the simulations.")] = 0,
        out: Annotated[Path, typer.Option("--out", help="Folder for calibration.json, calibration.md and PNGs.")] = Path(
            "calibration"
        ),
    ) -> None:
        """Fit the adoption rule (pooled and hierarchical) to a diffusion study; leave-one-community-out check.

        Exits 2, writing nothing, on a bad option or a malformed study file (the message names file, row and column).
        """
        from sim.cli import console, fail
        from sim.validation.calibrate import STUDIES, TIME_UNITS
        from sim.validation.holdout import calibrate_study, calibrate_tables, write_outputs
        from sim.validation.studies import read_study

        if sims < 10:
            fail(f"--sims: at least 10; got {sims}")
        if time_unit not in TIME_UNITS:
            fail(f"--time-unit: unknown time unit {time_unit!r}; choose from {', '.join(TIME_UNITS)}")
        own = nodes is not None or edges is not None
        if own and study is not None:
            fail("--study and --nodes/--edges: give one or the other")
        if own and (nodes is None or edges is None):
            fail("--nodes and --edges: give both")
        results = []
        try:
            if own:
                assert nodes is not None and edges is not None
                tables = read_study(nodes, edges, name=name)
                results.append(calibrate_tables(tables, time_unit, holdout, sims, seed))
            else:
                names = list(STUDIES) if study in (None, "all") else [study]
                if any(n not in STUDIES for n in names):
                    fail(f"--study: unknown study {study!r}; choose from {', '.join(STUDIES)} or all (or --nodes/--edges)")
                if holdout not in ("all", "none") and len(names) > 1:
                    fail("--holdout: a community id needs one --study")
                for n in names:
                    results.append(calibrate_study(n, holdout=holdout, sims=sims, seed=seed))
        except ValueError as err:  # StudyDataError included: names file, row and column
            fail(str(err))
        for res in results:
            f, h = res.fit, res.hier
            cov, lo, hi = res.coverage("hier")
            pcov, plo, phi = res.coverage("pooled")
            typer.echo(
                f"{res.study}: pooled p = {f.p:.4f}, q = {f.q:.4f} per {f.unit} ({f.network} network); hierarchical "
                f"median p = {h.p_median:.4f}, q = {h.q_median:.4f}, sigma_p = {h.theta[2]:.2f}, sigma_q = {h.theta[3]:.2f}; "
                f"LR = {h.lr:.2f} (p = {h.p_value:.3g})"
            )
            for x in res.held_out:
                typer.echo(
                    f"  held-out community {x.community}: {x.hier.inside:.1f}/{x.hier.points} points inside the 90 % band "
                    f"(pooled {x.pooled.inside:.1f})"
                )
            if res.held_out:
                typer.echo(
                    f"  leave-one-out coverage of the 90 % band: hierarchical {cov:.3f} ({lo:.3f}-{hi:.3f}, "
                    f"{res.verdict('hier')}), pooled {pcov:.3f} ({plo:.3f}-{phi:.3f}, {res.verdict('pooled')})"
                )
        write_outputs(out, results)
        console.print(f"wrote {out}/calibration.json, calibration.md and PNGs")
