"""Output folders that appear whole or not at all.

Every command that writes a folder of results (``sim run``, ``sim compare``,
``sim validate``, ``sim calibrate``) writes it through :func:`output_folder`::

    check_output_folder(out, overwrite)          # before any work: refuse a bad --out early
    with output_folder(out, overwrite=overwrite) as tmp:
        write_everything_into(tmp)               # a hidden sibling: .NAME.out.tmp-PID-XXXX
    # here ``out`` holds the complete folder (one rename); on an error, nothing

The folder is built in a hidden temporary sibling of ``out`` and renamed into place
once (``os.rename`` of the whole folder, atomic on one file system), so a reader, or
a process killed at any moment (even by SIGKILL), sees either no ``out`` or a
complete one. Rules for an existing ``out``:

* a file (or anything but a folder): refused;
* an empty folder: replaced by the new one;
* a folder written by ``sim`` (it has a ``manifest.json``, ``validation.md`` or
  ``calibration.md``): refused unless ``overwrite``; then replaced whole (the old
  folder is renamed aside, the new one renamed in, the old one deleted);
* any other non-empty folder: refused, even with ``overwrite`` (never deleted),
  except in ``merge`` mode, used by report commands that write into a shared
  folder such as ``docs/``: there the finished files are moved in one by one, each
  replacing its older version atomically, and nothing else in the folder is touched.

Temporaries of killed processes (``.NAME.out.tmp-PID-*``, ``.NAME.out.old-PID-*``)
are deleted by the next command writing the same ``out``, once their process is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKERS: tuple[str, ...] = ("manifest.json", "validation.md", "calibration.md")
"""Files that mark a folder as written by ``sim`` (so ``--overwrite`` may replace it)."""


class OutputFolderError(ValueError):
    """``--out`` cannot be used: the message names the folder and what to do."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(out: Path) -> int:
    """Delete temporaries beside ``out`` left by processes that no longer run. Returns how many."""
    removed = 0
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        return 0
    for kind in ("tmp", "old"):
        for p in parent.glob(f".{out.name}.out.{kind}-*"):
            try:
                pid = int(p.name.rsplit(f".out.{kind}-", 1)[1].split("-", 1)[0])
            except (IndexError, ValueError):
                continue
            if pid != os.getpid() and not _alive(pid):
                shutil.rmtree(p, ignore_errors=True)
                removed += 1
    return removed


def is_sim_folder(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``sim`` (has one of :data:`MARKERS`)."""
    return path.is_dir() and any((path / m).exists() for m in MARKERS)


def check_output_folder(out: str | Path, overwrite: bool = False, merge: bool = False) -> Path:
    """Refuse an unusable ``out`` before any work is done; :class:`OutputFolderError` naming it.

    See the module docstring for the rules. Returns ``out`` as a :class:`Path`.
    """
    out = Path(out)
    if out.is_symlink() and not out.exists():
        raise OutputFolderError(f"--out {out}: a broken symbolic link; remove it or choose another --out")
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"--out {out}: is a file, not a folder; choose another --out")
    if out.is_dir() and not merge and any(out.iterdir()):
        if not is_sim_folder(out):
            raise OutputFolderError(
                f"--out {out}: a folder that holds other files (not written by sim); it is never replaced, "
                "choose another --out"
            )
        if not overwrite:
            raise OutputFolderError(
                f"--out {out}: holds an earlier result; add --overwrite to replace it whole, or choose another --out"
            )
    parent = out.parent if str(out.parent) else Path(".")
    if parent.exists() and not parent.is_dir():
        raise OutputFolderError(f"--out {out}: {parent} is a file, not a folder")
    check_writable(out)
    return out


def check_writable(out: str | Path) -> None:
    """Refuse an ``out`` that cannot be created or written: probe it, or its deepest existing ancestor.

    A temporary folder is made there and removed at once (nothing is left behind), so a
    read-only disk, a missing permission or a pseudo file system (``/proc``) is an error
    before any work, not a traceback after it.
    """
    out = Path(out)
    base = out.absolute()
    while not base.exists() and base != base.parent:
        base = base.parent
    if not base.is_dir():
        raise OutputFolderError(f"--out {out}: {base} is a file, not a folder")
    try:
        Path(tempfile.mkdtemp(prefix=".sim-write-probe-", dir=base)).rmdir()
    except OSError as err:
        raise OutputFolderError(f"--out {out}: cannot create folders in {base} ({err.strerror or err}); "
                                "choose another --out") from None


def begin_output(out: str | Path, overwrite: bool = False, merge: bool = False) -> Path:
    """Check ``out``, delete stale temporaries beside it and create the temporary sibling; return it.

    Pair with :func:`commit_output` (on success) or :func:`discard_output`; prefer
    :func:`output_folder`, which does both.
    """
    out = check_output_folder(out, overwrite, merge)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        return Path(tempfile.mkdtemp(prefix=f".{out.name}.out.tmp-{os.getpid()}-", dir=out.parent))
    except OSError as err:
        raise OutputFolderError(f"--out {out}: cannot create it in {out.parent} ({err.strerror or err}); "
                                "choose another --out") from None


def commit_output(tmp: Path, out: str | Path, overwrite: bool = False, merge: bool = False) -> Path:
    """Make the finished temporary folder ``tmp`` the folder ``out`` (one rename; see the module docstring)."""
    try:
        _commit(Path(tmp), Path(out), overwrite, merge)
    except BaseException:
        discard_output(tmp)
        raise
    return Path(out)


def discard_output(tmp: Path) -> None:
    """Delete a temporary folder from :func:`begin_output`."""
    shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def output_folder(out: str | Path, *, overwrite: bool = False, merge: bool = False) -> Iterator[Path]:
    """Yield a temporary folder; on a clean exit make it ``out`` in one rename (see the module docstring).

    On an exception (including ``KeyboardInterrupt`` and ``SystemExit``) the temporary
    folder is deleted and ``out`` is left as it was.
    """
    tmp = begin_output(out, overwrite, merge)
    try:
        yield tmp
    except BaseException:
        discard_output(tmp)
        raise
    commit_output(tmp, out, overwrite, merge)


def _commit(tmp: Path, out: Path, overwrite: bool, merge: bool) -> None:
    check_output_folder(out, overwrite, merge)  # again: another process may have written it meanwhile
    if not out.exists():
        os.rename(tmp, out)
        return
    if merge:
        for src in sorted(tmp.rglob("*")):
            if src.is_dir():
                continue
            dst = out / src.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
        shutil.rmtree(tmp, ignore_errors=True)
        return
    old = out.with_name(f".{out.name}.out.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.rename(out, old)  # from here until the next rename there is no ``out``: never a mixed one
    os.rename(tmp, out)
    shutil.rmtree(old, ignore_errors=True)
