"""``sim bench``: time the target-group step and the full model step against the machine's floor."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``bench`` command to the ``sim`` command line."""

    @app.command("bench")
    def bench_cmd(
        n: Annotated[int, typer.Option("--n", help="Members of the synthetic target group.", min=1)] = 1_000_000,
        degree: Annotated[int, typer.Option("--degree", help="Ties per member [ties].", min=0, max=1000)] = 10,
        steps: Annotated[int, typer.Option("--steps", help="Timed steps (medians are reported).", min=1)] = 10,
        preset: Annotated[
            str | None, typer.Option("--preset", help="Scenario for the full model step (default: the Sweden preset).")
        ] = None,
        warmup_model: Annotated[
            int, typer.Option("--warmup-model", help="Model steps run before timing (mid-run state).", min=0)
        ] = 60,
        no_model: Annotated[bool, typer.Option("--no-model", help="Skip the full model step.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON only.")] = False,
    ) -> None:
        """Time the bare target-group step, the full model step and the machine probes (ms per step)."""
        from sim.cli import load_or_exit
        from sim.perf.bench import run_bench

        if preset is not None and not no_model:
            load_or_exit(preset, None)  # an unknown or invalid scenario: exit 2 naming it, before the timing
        res = run_bench(n=n, degree=degree, steps=steps, preset=preset, warmup_model=warmup_model, model=not no_model)
        if as_json:
            typer.echo(json.dumps(res, indent=2))
            return
        pr = res["probes"]
        lines = [
            f"machine: {res['machine']['cpu']}, {res['machine']['cpus']} cpus; backend {res['backend']}",
            f"probes at n={n:,}: stream {pr['bandwidth_gb_s']:.1f} GB/s, gather {pr['gather_ns']:.2f} ns, "
            f"draws {pr['draw_ms']:.2f} ms",
            f"target-group step  n={n:,} degree={degree}: {res['target_step_ms']:8.2f} ms/step "
            f"({res['ns_per_member']:.2f} ns/member, {res['bytes_per_member']:.0f} B/member)",
            f"floor (stream + gathers + draws):      {res['floor_ms']:8.2f} ms  -> ratio {res['ratio_to_floor']:.2f} "
            "(goal <= 3)",
            f"floor of the kernel's own traffic:     {res['kernel_floor_ms']:8.2f} ms  -> ratio "
            f"{res['ratio_to_kernel_floor']:.2f}",
        ]
        if res.get("full_model_step_ms") is not None:
            lines += [
                f"full model step ({res['preset']}, {res['people']:,} members, {res['organisations']:,} organisations):"
                f" {res['full_model_step_ms']:.2f} ms/step",
                f"bare target-group step, same population: {res['preset_target_step_ms']:.2f} ms/step -> ratio "
                f"{res['full_to_target_ratio']:.2f} (goal <= 2)",
            ]
        typer.echo("\n".join(lines))
