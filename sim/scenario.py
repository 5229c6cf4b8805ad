"""Scenario files: TOML loading, dotted overrides, errors; the parameter schema (:mod:`sim.params`) re-exported.

Every model parameter lives here exactly once, as a pydantic field with its unit,
default and allowed range. Everything else in the package reads the validated
:class:`Scenario` object; nothing else parses parameters.

A scenario file is TOML whose tables mirror the sections below::

    [run]
    steps = 120

    [organisations]
    q = 0.3

Unknown keys, wrong types and out-of-range values raise :class:`ScenarioError`,
whose message names the file, the dotted field and the allowed range.

A file may build on another with a top-level ``extends = "PRESET-or-path"``
(:func:`read_scenario_data`): the base is read first (itself possibly extending
another), then the file's own values are merged in (:func:`deep_merge`).
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sim.interventions.schema import BY_KIND
from sim.params import (  # noqa: F401 - the schema, re-exported
    DEFAULT_SCENARIO,
    ELEMENTS,
    FORMS,
    MAX_ERRORS_SHOWN,
    MAX_FILE_BYTES,
    MAX_NESTING,
    SCENARIO_DIR,
    SECTORS,
    FundingParams,
    LeverParams,
    OrganisationParams,
    PlacesParams,
    PopulationParams,
    ProcessParams,
    RunParams,
    ScalingUpParams,
    Scenario,
    ScenarioError,
    SolutionParams,
    ValueParams,
    _strict_value,
    cut,
    short,
    table_default,
)

# --------------------------------------------------------------------------- loading


def resolve_scenario_path(name_or_path: str | Path | None) -> Path:
    """Find a scenario file: a path, or the name of a preset in ``scenarios/``."""
    if name_or_path is None:
        name_or_path = DEFAULT_SCENARIO
    p = Path(name_or_path)
    try:
        if p.suffix == ".toml" and (p.exists() or p.is_symlink()):
            return p
        for cand in (SCENARIO_DIR / f"{p.name}", SCENARIO_DIR / f"{p.name}.toml", SCENARIO_DIR / f"{p}.toml"):
            if cand.suffix == ".toml" and cand.exists():
                return cand
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        pass
    raise ScenarioError(f"{cut(str(name_or_path))}: no such scenario file or preset "
                        f"(presets: {', '.join(list_presets())})")


def _too_deep(obj: Any, limit: int = MAX_NESTING) -> bool:
    """Whether tables/arrays in ``obj`` nest more than ``limit`` levels (checked without recursion)."""
    stack = [(obj, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return False


def parse_toml_text(text: str, source: str) -> dict[str, Any]:
    """Parse TOML text; :class:`ScenarioError` naming ``source`` if it is invalid or nested too deeply."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{source}: not valid TOML: {cut(str(err), 200)}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested more than {MAX_NESTING} levels deep (tables or arrays)") from None
    if _too_deep(data):
        raise ScenarioError(f"{source}: nested more than {MAX_NESTING} levels deep (tables or arrays)")
    return data


def read_toml_file(path: str | Path, what: str = "scenario") -> dict[str, Any]:
    """Read and parse a TOML file safely; :class:`ScenarioError` naming the file otherwise.

    Refused before reading: directories, FIFOs, devices and sockets (also behind a
    symlink: ``/dev/zero`` is never read), files over :data:`MAX_FILE_BYTES`. Then:
    text that is not UTF-8 (a UTF-8 byte-order mark is dropped), invalid TOML,
    nesting deeper than :data:`MAX_NESTING`.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such {what} file") from None
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ScenarioError(f"{path}: cannot open the {what} file ({reason})") from None
    st = os.fstat(fd)
    problem = None
    if stat.S_ISDIR(st.st_mode):
        problem = f"{path}: is a directory, not a {what} file"
    elif not stat.S_ISREG(st.st_mode):
        problem = f"{path}: not a regular file (a FIFO, device or socket); a {what} file is a TOML text file"
    elif st.st_size > MAX_FILE_BYTES:
        problem = f"{path}: {st.st_size:,} bytes is too large for a {what} file (at most {MAX_FILE_BYTES:,})"
    if problem:
        os.close(fd)
        raise ScenarioError(problem)
    with os.fdopen(fd, "rb") as fh:
        try:
            raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as err:
            raise ScenarioError(f"{path}: cannot read the {what} file ({err.strerror})") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"{path}: too large for a {what} file (at most {MAX_FILE_BYTES:,} bytes)")
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") or (len(raw) >= 2 and raw[1:2] == b"\x00" and raw[:1] != b"\x00"):
        raise ScenarioError(f"{path}: looks like UTF-16 text; save the {what} file as UTF-8")
    try:
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line}); save the {what} file as UTF-8"
        ) from None
    return parse_toml_text(text, str(path))


MAX_EXTENDS = 32
"""Longest chain of ``extends`` followed (a extends b extends c ... ) [files]."""

EXTENDS_ALLOWED = "a preset name ({presets}) or the path of a .toml scenario file, relative to {folder}"


def deep_merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``child`` merged in (neither is changed).

    A table in ``child`` whose key holds a table in ``base`` merges into it key by key
    (at any depth); any other value of ``child`` (a number, a string, a list, or a
    table over a value) replaces ``base``'s whole. Lists are never merged.
    """
    import copy

    out = copy.deepcopy(base)
    stack = [(out, child)]
    while stack:  # without recursion: nesting is already limited, but a stack costs nothing
        into, src = stack.pop()
        for key, value in src.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                stack.append((into[key], value))
            else:
                into[key] = copy.deepcopy(value)
    return out


def _leaf_origins(data: dict[str, Any], origin: str, into: dict[tuple[str, ...], str]) -> None:
    """Record ``origin`` for every dotted key of ``data`` (tables and their entries alike)."""
    stack: list[tuple[tuple[str, ...], dict[str, Any]]] = [((), data)]
    while stack:
        prefix, node = stack.pop()
        for key, value in node.items():
            loc = (*prefix, str(key))
            into[loc] = origin
            if isinstance(value, dict):
                stack.append((loc, value))


def resolve_extends(ref: Any, child: Path) -> Path:
    """The base file named by ``extends = ref`` in the file ``child``.

    A preset name (``sim presets``: ``NAME`` or ``cases/NAME``) is ``scenarios/NAME.toml``; any other
    value ending in ``.toml`` or holding a path separator is a path (relative to ``child``'s folder
    unless absolute).
    :class:`ScenarioError` naming ``child``, the field and what is allowed otherwise.
    """
    allowed = EXTENDS_ALLOWED.format(presets=", ".join(list_presets()), folder=child.parent)
    if not isinstance(ref, str) or not ref.strip():
        raise ScenarioError(f"{child}: field extends: expected a string, {allowed}; got {short(ref)}")
    p = Path(ref)
    is_path = (p.suffix == ".toml" or "/" in ref or os.sep in ref) and ref not in list_presets()  # cases/NAME is a preset
    cand = (p if p.is_absolute() else child.parent / p) if is_path else SCENARIO_DIR / f"{ref}.toml"
    try:
        found = cand.exists() or (is_path and cand.is_symlink())
    except (OSError, ValueError):  # a name too long for the file system, or with a NUL byte
        found = False
    if found:
        return cand
    what = f"no such scenario file {cut(str(cand))}" if is_path else f"no preset named {short(ref)}"
    raise ScenarioError(f"{child}: field extends: {what} (allowed: {allowed})")


def _resolve_file_fields(data: dict[str, Any], file: Path) -> None:
    """Make a relative ``places.data`` path in ``data`` (read from ``file``) absolute, from ``file``'s folder.

    Each file of an ``extends`` chain resolves its own paths, so a base's data file is
    found beside the base. A value that is not a string is left to validation.
    """
    places = data.get("places")
    if isinstance(places, dict) and isinstance(places.get("data"), str) and places["data"].strip():
        ref = Path(places["data"]).expanduser()
        places["data"] = str(ref)
        if not ref.is_absolute():
            places["data"] = os.path.normpath(os.path.abspath(file.parent / ref))


def read_scenario_data(path: str | Path) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """The raw scenario dict of a file with its ``extends`` chain resolved, and where each value came from.

    Returns ``(data, origins)``: ``data`` is the merged, unvalidated dict (no
    ``extends`` key; ``name`` defaults to the file's own stem: it is not inherited),
    ``origins`` maps each dotted key (as a tuple) to the file that set it. Cycles,
    missing bases, chains longer than :data:`MAX_EXTENDS` and a non-string ``extends``
    are :class:`ScenarioError` naming the file with the ``extends`` field.
    """
    path = Path(path)
    chain: list[Path] = []  # child first
    layers: list[tuple[Path, dict[str, Any]]] = []
    seen: dict[Path, int] = {}
    current: Path | None = path
    while current is not None:
        key = current.resolve()
        if key in seen:
            names = " -> ".join(str(p) for p in [*chain, current])
            raise ScenarioError(
                f"{chain[-1]}: field extends: a cycle ({cut(names, 400)}); allowed: a chain of scenarios that ends "
                "in one without extends"
            )
        if len(chain) >= MAX_EXTENDS:
            raise ScenarioError(
                f"{chain[-1]}: field extends: a chain of more than {MAX_EXTENDS} files (allowed: at most {MAX_EXTENDS})"
            )
        seen[key] = len(chain)
        chain.append(current)
        data = read_toml_file(current)
        _resolve_file_fields(data, current)
        ref = data.pop("extends", None)
        layers.append((current, data))
        current = None if ref is None else resolve_extends(ref, current)
    merged: dict[str, Any] = {}
    origins: dict[tuple[str, ...], str] = {}
    for file, data in reversed(layers):  # the last base first, the file itself last
        merged = deep_merge(merged, data)
        _leaf_origins(data, str(file), origins)
    if "name" not in layers[0][1]:  # a scenario's name is its own, never its base's
        merged["name"] = path.stem[:200]
    return merged, origins


def list_presets() -> list[str]:
    """Names of the built-in scenario presets; the case library's as ``cases/<name>`` (``scenarios/cases/``)."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml")) + sorted(
        f"cases/{p.stem}" for p in (SCENARIO_DIR / "cases").glob("*.toml"))


def parse_override(text: str) -> tuple[str, Any]:
    """Parse ``key.sub=value`` (the value as a TOML value, else as a string)."""
    if "=" not in text:
        raise ScenarioError(f"--set {short(text)}: expected dotted.key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part.strip() for part in key.split(".")):
        raise ScenarioError(f"--set {short(text)}: expected dotted.key=value (an empty key part)")
    if len(raw) > MAX_FILE_BYTES:
        raise ScenarioError(f"--set {short(key)}: value too long")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    except RecursionError:
        raise ScenarioError(f"--set {short(key)}: value nested more than {MAX_NESTING} levels deep") from None
    if _too_deep(value):
        raise ScenarioError(f"--set {short(key)}: value nested more than {MAX_NESTING} levels deep")
    return key, value


def apply_overrides(data: dict[str, Any], overrides: dict[str, Any] | list[str] | None) -> dict[str, Any]:
    """Return a copy of ``data`` with dotted overrides (``{"organisations.q": 0.4}``) set."""
    import copy

    out = copy.deepcopy(data)
    if not overrides:
        return out
    items = [parse_override(o) for o in overrides] if isinstance(overrides, list) else list(overrides.items())
    for key, value in items:
        parts = key.split(".")
        node = out
        for depth, part in enumerate(parts[:-1]):
            if part not in node:  # a table the data does not state: a dict-valued field starts from its default
                # (--set value.site_cost_sek.project=30000 keeps the other forms' costs, as a lever setting does,
                # instead of a one-entry table the schema rejects or, for sector_shares, reads as one sector)
                node[part] = table_default(parts[: depth + 1])
            nxt = node[part]
            if not isinstance(nxt, dict):
                raise ScenarioError(f"--set {short(key)}: {short(part)} is a value, not a table")
            node = nxt
        node[parts[-1]] = value
    return out


def _origin_of(loc: tuple[Any, ...], origins: dict[tuple[str, ...], str] | None) -> str | None:
    """The file that set the value at ``loc`` (the longest recorded prefix), or None."""
    if not origins:
        return None
    parts = tuple(str(x) for x in loc)
    for n in range(len(parts), 0, -1):
        if parts[:n] in origins:
            return origins[parts[:n]]
    return None


def _format_errors(source: str, err: ValidationError, origins: dict[tuple[str, ...], str] | None = None) -> str:
    """One short line per field error (at most :data:`MAX_ERRORS_SHOWN`); inputs are cut, never pasted whole.

    ``origins`` (from :func:`read_scenario_data`): a field whose bad value came from a
    base file (another file than ``source``) says so; if every bad value came from one
    base, the message starts with that file.
    """
    errors = err.errors()
    found = {_origin_of(e["loc"], origins) for e in errors}
    head = source
    if len(found) == 1 and None not in found and found != {source}:
        head = f"{found.pop()} (extended by {source})"
    lines = [f"{head}: invalid scenario"]
    for e in errors[:MAX_ERRORS_SHOWN]:
        field = _field_name(e["loc"])
        kind = e["type"]
        if kind == "extra_forbidden":
            known = _known_keys(e["loc"][:-1])
            msg = "unknown key" + (f" (allowed keys: {', '.join(known)})" if known else "")
        elif kind == "intervention_kind":
            given = e["input"].get("kind") if isinstance(e.get("input"), dict) else None
            msg = f"{e['msg']}; got {short(given) if given is not None else 'no kind'}"
        else:
            text = str(e["msg"]).removeprefix("Value error, ")
            shown = e.get("input")
            msg = text if isinstance(shown, dict) else f"{text}; got {short(shown)}"
        rng = _allowed_range(e["loc"])
        origin = _origin_of(e["loc"], origins)
        lines.append(f"  field {cut(field)}: {msg}"
                     + (f" (allowed range {rng})" if rng else "")
                     + (f" (value from {origin})" if origin not in (None, source) and head == source else ""))
    if len(errors) > MAX_ERRORS_SHOWN:
        lines.append(f"  ... and {len(errors) - MAX_ERRORS_SHOWN} more errors")
    return "\n".join(lines)


def _field_name(loc: tuple[Any, ...]) -> str:
    """A field's name for messages: dotted, with an intervention as ``interventions[i] (kind k).field``."""
    if len(loc) >= 2 and loc[0] == "interventions" and isinstance(loc[1], int):
        head = f"interventions[{loc[1]}]"
        rest = list(loc[2:])
        if rest and rest[0] in BY_KIND:
            head += f" (kind {rest.pop(0)})"
        return head + "".join(f".{x}" for x in rest)
    return ".".join(str(x) for x in loc) or "(scenario)"


def _schema_path(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` with an intervention's index and kind replaced by its kind's model (for schema look-ups)."""
    if len(loc) >= 3 and loc[0] == "interventions" and loc[2] in BY_KIND:
        return (BY_KIND[loc[2]], *loc[3:])
    return loc


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the section at ``loc`` (the top level for an empty ``loc``)."""
    loc = _schema_path(loc)
    model: Any = Scenario
    if loc and isinstance(loc[0], type):
        model, loc = loc[0], loc[1:]
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        model = fields[part].annotation
    return list(getattr(model, "model_fields", {}) or [])


def _allowed_range(loc: tuple[Any, ...]) -> str | None:
    """Look up the documented range of a field from the schema."""
    loc = _schema_path(loc)
    model: Any = Scenario
    if loc and isinstance(loc[0], type):
        model, loc = loc[0], loc[1:]
    info = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        model = info.annotation
    if info is None:
        return None
    lo = hi = None
    for m in info.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if lo is None and hi is None:
        return None
    return f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}]"


def scenario_from_dict(
    data: dict[str, Any], source: str = "<scenario>", origins: dict[tuple[str, ...], str] | None = None
) -> Scenario:
    """Validate a scenario dict; raise :class:`ScenarioError` naming ``source``.

    ``origins`` (dotted key -> file, from :func:`read_scenario_data`) names the base
    file a bad value came from, when it is not ``source``.
    """
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(_format_errors(source, err, origins)) from None


def load_scenario(
    name_or_path: str | Path | None = None,
    overrides: dict[str, Any] | list[str] | None = None,
    *,
    check_world: bool = True,
    force_size: bool | None = None,
) -> Scenario:
    """Load a scenario file (or preset name), resolve its ``extends`` chain, apply dotted overrides and validate.

    With ``check_world`` (the default) the checks that need the places are made too
    (explicit thresholds per organisation, the originators' place, the memory a run
    needs; :func:`sim.preflight.check_scenario`), naming the file. ``force_size``
    skips only the memory check (default: the ``SIM_FORCE_SIZE`` environment variable).
    """
    path = resolve_scenario_path(name_or_path)
    data, origins = read_scenario_data(path)
    try:
        merged = apply_overrides(data, overrides)
    except ScenarioError as err:
        raise ScenarioError(f"{path}: {err}") from None
    if overrides:  # a value set by --set is the command line's, not a base file's
        keys = [parse_override(o)[0] for o in overrides] if isinstance(overrides, list) else list(overrides)
        for key in keys:
            parts = tuple(key.split("."))
            for loc in [k for k in origins if k[: len(parts)] == parts]:
                origins[loc] = str(path)
            origins[parts] = str(path)
    scenario = scenario_from_dict(merged, source=str(path), origins=origins)
    if check_world:
        from sim.preflight import check_scenario

        check_scenario(scenario, str(path), force_size=force_size)
    return scenario


def dump_toml(data: dict[str, Any]) -> str:
    """Write a scenario dict as TOML (enough for the types the schema uses)."""

    def val(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {val(x)}' for k, x in v.items()) + " }"
        raise TypeError(type(v))

    top = [f"{k} = {val(v)}" for k, v in data.items() if not isinstance(v, dict)]
    tables = [
        f"\n[{k}]\n" + "\n".join(f"{kk} = {val(vv)}" for kk, vv in v.items())
        for k, v in data.items()
        if isinstance(v, dict)
    ]
    return "\n".join(top) + "\n" + "\n".join(tables) + "\n"


def _fields_table(model: Any, path: tuple[Any, ...]) -> list[str]:
    """Markdown rows of a model's fields: default, allowed values, meaning."""
    out = ["| field | default | allowed | meaning (unit) |", "|---|---|---|---|"]
    for name, f in model.model_fields.items():
        default = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
        rng = _allowed_range((*path, name))
        ann = str(f.annotation).replace("typing.", "").replace("sim.interventions.schema.", "")
        allowed = rng or (ann.replace("Literal", "one of ") if "Literal" in ann else ann)
        allowed = allowed.replace("|", "\\|")
        dflt = "required" if f.is_required() else repr(default).replace("|", "\\|")
        if len(dflt) > 60:
            dflt = dflt[:57] + "..."
        out.append(f"| `{name}` | `{dflt}` | {allowed} | {f.description} |")
    return out


def _interventions_markdown() -> list[str]:
    """The ``[[interventions]]`` reference: the fields every kind has, then each kind's own."""
    from sim.interventions.schema import PlaceRule, _Intervention

    common = set(_Intervention.model_fields)
    out = ["## `[[interventions]]`", "",
           "What a strategy does over time: a list of tables, each with a `kind` (see `docs/interventions.md` for the",
           "rules). A start is `month` or `date` (default month 0); an unknown kind or field is an error naming the",
           "intervention's index, kind and field. Fields every kind has:", ""]
    out += _fields_table(_Intervention, ("interventions", 0, "offer"))
    out += ["", "Target places by rule (`places = { rule = \"highest_need\", n = 10 }`):", ""]
    out += _fields_table(PlaceRule, (PlaceRule,))
    for kind, model in BY_KIND.items():
        own = [k for k in model.model_fields if k not in common and k != "kind"]
        out += ["", f"### `kind = \"{kind}\"`", "", (model.__doc__ or "").strip().splitlines()[0], ""]
        if not own:
            out.append("No fields of its own.")
            continue
        rows = _fields_table(model, ("interventions", 0, kind))
        out += rows[:2] + [r for r in rows[2:] if r.split("`")[1] in own]
    out.append("")
    return out


def schema_markdown() -> str:
    """The parameter reference (``docs/scenarios.md``), generated from the schema itself."""
    out = [
        "# Scenario files: every parameter",
        "",
        "Generated from `sim/scenario.py` by `python -m sim.scenario > docs/scenarios.md`; a test keeps it current.",
        "",
        "A scenario is a TOML file whose tables are the sections below. Anything left out takes its default.",
        "Unknown keys, wrong types and values outside the range are errors (exit code 2) naming the file,",
        "the field and the allowed range. Types are strict: a string is never read as a number or a boolean",
        "(`q = \"0.5\"` is an error), a boolean never as a number (`q = true`) and a number never as a boolean",
        "(`enabled = 1`); an integer may stand for a float and an integral float (`3.0`) for an integer. NaN and",
        "infinities are refused in every field, tables and lists included, and `-0.0` where a field cannot be",
        "negative. Checks across fields (explicit `thresholds` one per organisation, `initial_place` a place name,",
        "the memory a run needs) are made when the file is loaded too, naming it; see `docs/robustness.md`.",
        "Any field can be overridden on the command line with",
        "`--set section.field=value` (the value is read as TOML: `0.4`, `true`, `\"ring\"`, `[0.1, 0.2]`).",
        "One entry of a table-valued field (`--set value.site_cost_sek.project=30000`, or a sweep over that key)",
        "changes that entry and keeps the table's others: those the scenario file states, else the schema's",
        "defaults.",
        "",
        "```toml",
        "[run]",
        "steps = 60",
        "",
        "[organisations]",
        "q = 0.4",
        "network = \"small_world\"",
        "",
        "[levers]",
        "guardrails = 0.8",
        "```",
        "",
        "```",
        "sim run my.toml --set levers.adaptation_rate=0.2 --set run.dt=0.5",
        "```",
        "",
        "## Building on another scenario: `extends`",
        "",
        "A file may start from a preset or another file and state only what differs:",
        "",
        "```toml",
        "# my-sweden.toml",
        "extends = \"sweden-youth-employment\"   # a preset name, or a path such as \"../base.toml\"",
        "",
        "[levers]",
        "guardrails = 0.8                       # every other lever as in the preset",
        "```",
        "",
        "* `extends` is a top-level key only. A value ending in `.toml` or holding a `/` is a path, relative to the",
        "  folder of the file that names it (not the working directory); any other is a preset in `scenarios/`.",
        "* The base is read first, then the file merged in: a table merges into the base's table key by key, at any",
        "  depth (`[organisations.eligible_share]` with `private = 0.9` keeps the base's other sectors); any other",
        "  value replaces the base's, and lists (`thresholds`) replace whole. A sub-table merges with what the base",
        "  *file* states, not with the schema's defaults (a table such as `value.site_cost_sek` that needs every",
        "  key needs them all unless the base gives them).",
        "* `name` is not inherited: it is the file's own `name`, else its file name; `description` is inherited.",
        "* Chains work (a extends b extends c, at most 32 files). A cycle, a missing base or an `extends` that is",
        "  not a string is an error (exit 2) naming the file and `field extends` and what is allowed.",
        "* The merged scenario is validated like any other; a bad value that came from a base names that file",
        "  (`base.toml (extended by my.toml): invalid scenario`, or `(value from base.toml)` beside the field).",
        "  `--set` applies after the merge. The resolved scenario (e.g. in `manifest.json`) has no `extends`;",
        "  an experiment's `scenario = \"...\"` may name a file that extends another.",
        "",
        "## Calendar time: `run.start`",
        "",
        "`[run] start = \"2027-01\"` (a year and month from 1900-01 to 2200-12; default none) puts the run in calendar",
        "time: model month `m` is the month `start + floor(m)` (months 0-0.99 are 2027-01, month 12 is 2028-01).",
        "The model table then gets a `date` column after `month`, the per-place and per-organisation series a",
        "`date` after `step`, the places table `first_reached_date`, the organisations table `adopt_date`,",
        "`stop_date` and `funding_ended_date`; dates are ISO `\"YYYY-MM\"` strings (`pd.Period(d, \"M\")` reads them).",
        "The summary adds `start`, `end_date`, `time_to_50pct_places_date` and `scaled_up_date`. Without `run.start`",
        "the tables have no date column. `sim.dates.month_index(date, start)` and `date_of(month, start)` convert.",
        "",
    ]
    for section, info in Scenario.model_fields.items():
        sub = info.annotation
        fields = getattr(sub, "model_fields", None)
        if section == "interventions":
            out += _interventions_markdown()
            continue
        if not fields:
            out += [f"## `{section}`", "", f"{info.description} Default `{info.default!r}`.", ""]
            continue
        out += [f"## `[{section}]`", "", (sub.__doc__ or "").strip().splitlines()[0], ""]
        out += ["| field | default | allowed | meaning (unit) |", "|---|---|---|---|"]
        for name, f in fields.items():
            default = f.default_factory() if f.default_factory is not None else f.default  # type: ignore[call-arg]
            rng = _allowed_range((section, name))
            ann = str(f.annotation).replace("typing.", "")
            allowed = rng or (ann.replace("Literal", "one of ") if "Literal" in ann else ann)
            allowed = allowed.replace("|", "\\|")
            dflt = repr(default).replace("|", "\\|")
            if len(dflt) > 60:
                dflt = dflt[:57] + "..."
            out.append(f"| `{name}` | `{dflt}` | {allowed} | {f.description} |")
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(schema_markdown())
