"""Writing a project into -o: only hhbc's own files, never through a symlink.

-o may be a directory the user already uses. hhbc owns exactly the files its previous run
listed in `manifest.json` ("files"); it replaces those, deletes the ones the new project no
longer needs, and leaves everything else alone. A path it must write that holds someone
else's file, or any symlink, is an error naming that path: a symlink planted in out/ (say
`out/model.c -> /etc/passwd`) is never followed. Every file is written to a temporary name
beside it and renamed into place, so an interrupted or failed write (a full disk) leaves
either the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path, PurePosixPath

from hhbc.errors import HhbcError, ToolchainError

MANIFEST = "manifest.json"
# What hhbc versions that kept no "files" list wrote (plus whatever is under kernels/).
_LEGACY_FILES = {"model.h", "model.c", "weights.c", "main.c", "Makefile", MANIFEST}


def check_out_dir(out_dir: Path) -> None:
    """Refuse an -o that cannot be a directory, before any work is done."""
    if out_dir.exists() and not out_dir.is_dir():
        raise HhbcError(f"-o {out_dir}: exists and is not a directory")
    parent = out_dir.parent
    while not parent.exists() and not parent.is_symlink():
        parent = parent.parent
    if not parent.is_dir():
        raise HhbcError(f"-o {out_dir}: {parent} is not a directory")


def previous_files(out_dir: Path) -> set[str]:
    """The files (relative paths) hhbc wrote into out_dir last time, from its manifest."""
    path = out_dir / MANIFEST
    if path.is_symlink() or not path.is_file():
        return set()
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        return set()
    if not isinstance(manifest, dict) or "hhbc_version" not in manifest:
        return set()
    files = manifest.get("files")
    if isinstance(files, list):
        return {f for f in files if isinstance(f, str) and _inside(f)}
    kernels = out_dir / "kernels"
    legacy = set(_LEGACY_FILES)
    if kernels.is_dir() and not kernels.is_symlink():
        legacy |= {f"kernels/{p.name}" for p in kernels.iterdir() if p.is_file() and not p.is_symlink()}
    return legacy


class ProjectWriter:
    """Writes the files of one project into out_dir, replacing only what hhbc wrote before."""

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.owned = previous_files(out_dir) if out_dir.is_dir() else set()

    def write_all(self, files: dict[str, str | bytes]) -> list[str]:
        """Write the project's files (the manifest last, by `write`), after checking every
        path first: a conflict leaves out_dir as it was. Returns what the manifest lists."""
        for rel in [MANIFEST, *files]:
            self._claim(rel)
        for rel, data in files.items():
            self.write(rel, data)
        self._remove_stale({*files, MANIFEST})
        return sorted({*files, MANIFEST})

    def write(self, rel: str, data: str | bytes) -> None:
        path = self._claim(rel)
        try:
            replace_file(path, data.encode() if isinstance(data, str) else data)
        except OSError as err:
            raise write_error(path, err) from None

    def _remove_stale(self, keep: set[str]) -> None:
        """Delete the files hhbc wrote last time and not this time (a kernel the new model no
        longer uses); a symlink among them is removed as a link, never followed."""
        for rel in sorted(self.owned - keep):
            path = self.out_dir / rel
            folders = [self.out_dir / Path(*Path(rel).parts[:k]) for k in range(1, len(Path(rel).parts))]
            if any(f.is_symlink() for f in folders):
                continue
            if path.is_symlink() or path.is_file():
                path.unlink()

    def _claim(self, rel: str) -> Path:
        """The path for `rel`, after checking that writing it touches only out_dir."""
        self._make_dirs(Path(rel).parent)
        path = self.out_dir / rel
        if path.is_symlink():
            raise HhbcError(f"-o {self.out_dir}: {path} is a symlink; hhbc never writes through one "
                            f"(remove it, or choose another -o)")
        if path.exists():
            if path.is_dir():
                raise HhbcError(f"-o {self.out_dir}: {path} is a directory where hhbc writes a file")
            if rel not in self.owned:
                raise HhbcError(f"-o {self.out_dir}: {path} exists and is not a file hhbc wrote "
                                f"(not listed in {MANIFEST}); move it, or choose another -o")
        return path

    def _make_dirs(self, rel_dir: Path) -> None:
        """Create out_dir and the folders inside it, refusing a symlinked folder."""
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            path = self.out_dir
            for part in rel_dir.parts:
                path = path / part
                if path.is_symlink():
                    raise HhbcError(f"-o {self.out_dir}: {path} is a symlink; hhbc never writes "
                                    f"through one (remove it, or choose another -o)")
                if path.exists() and not path.is_dir():
                    raise HhbcError(f"-o {self.out_dir}: {path} is a file where hhbc needs a folder")
                path.mkdir(exist_ok=True)
        except OSError as err:
            raise write_error(path, err) from None


def replace_file(path: Path, data: bytes) -> None:
    """Write data to a temporary name beside path and rename it over path: a symlink at path
    is replaced, never followed, and a failed write leaves no half file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _inside(rel: str) -> bool:
    """A manifest entry names a path inside out_dir (the manifest is a file anyone can edit)."""
    parts = PurePosixPath(rel).parts
    return bool(parts) and not PurePosixPath(rel).is_absolute() and ".." not in parts and "\\" not in rel


def write_error(path: Path, err: OSError) -> HhbcError:
    """A failed write: a full disk is a build failure (exit 3), like the compiler's own."""
    reason = os.strerror(err.errno) if err.errno else str(err)
    if err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ToolchainError(f"writing {path} failed: {reason}")
    return HhbcError(f"writing {path} failed: {reason}")
