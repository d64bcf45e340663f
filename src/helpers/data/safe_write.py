"""Write, replace and delete files under a folder without ever going through a symbolic link.

Everything the project writes outside its build folder (reports/_failed/, reports/_lab/,
reports/index.html and reports/index_figures/, a PDF printed by hand) goes through these
functions. Each is given the path and the `root` it lives under (the reports folder, say:
the folder the user chose, itself followed if it is a link). Every part of the path below
`root` must be a real folder or file: a symbolic link there, planted by someone with write
access to a shared folder or left by a careless copy, would make the pipeline write or
delete wherever the link points (a link at reports/_failed to a home folder, and the
cleaning of reports/_failed/cohort1 deletes ~/cohort1). The functions refuse, naming the
link and where it points, and touch nothing.

Files are written to a new temporary file beside the target (created with O_EXCL and
O_NOFOLLOW) and renamed over it: a rename replaces a link at the target, never writes
through it, and a reader never sees half a file.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError


class LinkRefused(InputError):
    """A path the pipeline would write or delete passes through a symbolic link it did not make."""


def links_on(path: Path, root: Path) -> list[Path]:
    """The symbolic links among `path` and its folders below `root` (root itself is not checked)."""
    path, root = Path(path), Path(root)
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise ValueError(f"{path} is not under {root}") from None
    found, current = [], root
    for part in parts:
        current = current / part
        if current.is_symlink():
            found.append(current)
        elif not current.exists():
            break  # nothing below a missing part can exist yet
    return found


def refusal(links: list[Path], doing: str) -> str:
    """The message for links found on the way to a write or delete."""
    listed = "\n".join(f"  - {link} -> {_target(link)}" for link in links[:10])
    return (f"Refusing to {doing}: the path goes through a symbolic link the pipeline did not make, and it never "
            f"writes or deletes through a link (that would change whatever the link points to). Nothing was "
            f"written there. Remove the link (the link only, e.g. `rm {links[0]}`) and run again:\n{listed}")


def _target(link: Path) -> str:
    try:
        return os.readlink(link)
    except OSError:  # removed meanwhile
        return "?"


def check(path: Path, root: Path, doing: str | None = None) -> Path:
    """`path`, after making sure no part of it below `root` is a symbolic link (LinkRefused if one is)."""
    links = links_on(path, root)
    if links:
        raise LinkRefused(refusal(links, doing or f"write {path}"))
    return Path(path)


def check_tree(folder: Path, root: Path, doing: str | None = None) -> Path:
    """`folder`, after making sure neither it (below `root`) nor anything in it is a symbolic link:
    for a folder whose files are then written by other code (a notebook's scratch folder)."""
    folder = Path(folder)
    links = links_on(folder, root)
    if not links and folder.is_dir():
        for parent, dirs, files in os.walk(folder):
            links += [Path(parent) / name for name in dirs + files if (Path(parent) / name).is_symlink()]
    if links:
        raise LinkRefused(refusal(sorted(links), doing or f"write in {folder}"))
    return folder


def make_dir(folder: Path, root: Path) -> Path:
    """`folder` and its missing parents made under `root`, none of its parts a symbolic link."""
    folder, root = Path(folder), Path(root)
    check(folder, root, f"write in {folder}")
    current = root
    for part in folder.relative_to(root).parts:
        current = current / part
        try:
            current.mkdir()
        except FileExistsError:
            pass
        # A link made between the check and here, or a file where a folder should be.
        if current.is_symlink() or not current.is_dir():
            check(folder, root, f"write in {folder}")
            raise LinkRefused(f"Refusing to write in {folder}: {current} is not a folder.")
    return folder


@contextmanager
def replacing(target: Path, root: Path) -> Iterator[Path]:
    """A new temporary file beside `target` to write into (by any library that takes a path);
    renamed over `target` when the block ends without an error, removed otherwise."""
    target = Path(target)
    make_dir(target.parent, root)
    check(target, root)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        check(target.parent, root)  # again: a folder on the way swapped for a link meanwhile
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def write_text(target: Path, text: str, root: Path) -> Path:
    """Write `text` (UTF-8) to `target` under `root`, replacing it in one rename."""
    with replacing(target, root) as partial:
        partial.write_text(text, encoding="utf-8")
    return Path(target)


def copy_file(source: Path, target: Path, root: Path) -> Path:
    """Copy `source` to `target` under `root` (contents and times), replacing it in one rename."""
    with replacing(target, root) as partial:
        shutil.copy2(source, partial)
    return Path(target)


def remove(path: Path, root: Path) -> None:
    """Remove the file or folder `path` under `root`, if it exists; LinkRefused, removing nothing,
    if it or a folder on the way is a symbolic link."""
    path = check(path, root, f"delete {path}")
    if not path.exists():
        return
    if path.is_dir():
        # rmtree works through folder descriptors and never follows a link inside the tree.
        shutil.rmtree(path)
    else:
        path.unlink()
