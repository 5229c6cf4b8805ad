"""The ``sim validate`` and ``sim calibrate`` commands (registered by :mod:`sim.cli`)."""

from __future__ import annotations

import shutil
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
        from sim.validation.calibrate import calibrate_study
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
                mark = "[green]pass[/]" if c.holdout_ok else "[bold red]FAIL[/]"
                console.print(f"{mark} calibration {study} ({time.perf_counter() - t:.1f} s)")
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
        study: Annotated[str, typer.Option("--study", help="medInnovations, brfarmers or all.")] = "all",
        holdout: Annotated[
            int | None, typer.Option("--holdout", help="Community to hold out (default: the last in the file).")
        ] = None,
        sims: Annotated[int, typer.Option("--sims", min=10, help="Simulations per prediction band.")] = 400,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the simulations.")] = 0,
        out: Annotated[Path, typer.Option("--out", help="Folder for calibration.md and PNGs.")] = Path("calibration"),
    ) -> None:
        """Fit p and q of the adoption rule to a real diffusion study; check a held-out community."""
        from sim.cli import begin_output_or_exit, console, fail
        from sim.outdir import commit_output
        from sim.validation.calibrate import STUDIES, calibrate_study, calibration_markdown

        names = list(STUDIES) if study == "all" else [study]
        if any(n not in STUDIES for n in names):
            fail(f"--study: unknown study {study!r}; choose from {', '.join(STUDIES)} or all")
        if holdout is not None and len(names) > 1:
            fail("--holdout: needs one --study")
        final, out = out, begin_output_or_exit(out, merge=True)  # a temporary sibling, moved in when complete
        created = True
        results = []
        for name in names:
            try:
                res = calibrate_study(name, holdout=holdout, sims=sims, seed=seed, img_dir=out)
            except ValueError as err:
                if created:  # nothing half-written
                    shutil.rmtree(out, ignore_errors=True)
                fail(str(err))
            results.append(res)
            f = res.fit
            se_p, se_q = f.se
            typer.echo(
                f"{name}: p = {f.p:.4f} ± {se_p:.4f}, q = {f.q:.4f} ± {se_q:.4f} per {f.unit} "
                f"({f.network} network); held-out community {res.holdout}: "
                f"{res.holdout_band.inside}/{len(res.holdout_band.times)} points inside the 90 % band"
            )
        md = "# Calibration\n\nGenerated by `sim calibrate`.\n\n" + calibration_markdown(results)
        (out / "calibration.md").write_text(md, encoding="utf-8")
        commit_output(out, final, merge=True)
        console.print(f"wrote {final}/calibration.md and PNGs")
