"""Writes a kill cannot leave half-done: every file and folder the plugin writes goes through here.

A file is written under a temporary name in its own folder (so the rename stays on one file system), flushed and
fsynced, then os.replace()d over the target: a reader, or a process killed at any moment, sees either the old
complete file or the new complete one. A folder is built the same way under a temporary name and renamed into
place; rename(2) replaces an empty folder but never a full one, so folders are only ever created, not merged into.
Temporary names start with a dot and end in .tmp, so StudioGAN's and the plugin's globs never pick them up, and a
killed write leaves at worst such a file behind.
"""
import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path

from studiogan_slt.errors import SLTError

TEMP_SUFFIX = ".tmp"
# free bytes under which a failed write is taken for a full device: less than one more write buffer
FULL_BELOW = 1 << 20


def _fsync(path, flags=os.O_RDONLY):
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_tree(root):
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync(os.path.join(folder, name))
        _fsync(folder)


def _temporary_prefix(path):
    return f".{Path(path).name}."


def leftovers(folder, names="*"):
    """The temporary files a killed write of files named like the glob `names` left in `folder`."""
    return sorted(Path(folder).glob(f"{_temporary_prefix(names)}*{TEMP_SUFFIX}"))


@contextlib.contextmanager
def replacing(path):
    """Yield a temporary path next to `path`; when the block ends normally, the file written there replaces `path`.

    For writers that insist on a path of their own (torch.save, safetensors, matplotlib): pass them the yielded
    path, with the format spelled out where they would guess it from the suffix.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=TEMP_SUFFIX)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the target private
    try:
        yield Path(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


def torch_save(obj, path):
    """torch.save to `path` (a temporary name from this module). torch's file writer (inline_container.cc) reports
    a failed write as a RuntimeError that names no cause ("file write failed", "unexpected pos ..."); on a device
    with no room left it is the OSError (ENOSPC) of every other write, which the CLI reports in one line."""
    import torch

    try:
        torch.save(obj, path)
    except RuntimeError as err:
        folder = os.statvfs(Path(path).parent)
        if "inline_container" not in str(err) or folder.f_bavail * folder.f_frsize >= FULL_BELOW:
            raise
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None


@contextlib.contextmanager
def open_for_writing(path, mode="w", **kwargs):
    """open() of a temporary file that replaces `path` when the block ends normally."""
    with replacing(path) as tmp, open(tmp, mode, **kwargs) as f:
        yield f


def write_bytes(path, data):
    with open_for_writing(path, "wb") as f:
        f.write(data)
    return Path(path)


def write_text(path, text, encoding="utf-8"):
    with open_for_writing(path, "w", encoding=encoding) as f:
        f.write(text)
    return Path(path)


def check_new_folder(path, option="-o"):
    """SLTError unless `path` can become a new folder: absent or empty, its parent an existing writable folder."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise SLTError(f"{option} {path}: cannot create the folder (it exists and is not an empty folder)")
    _check_parent(path, option)


def check_writable_file(path, option="-o"):
    """SLTError unless a file can be written at `path` (its folder exists and is writable; not a folder itself)."""
    path = Path(path)
    if path.is_dir():
        raise SLTError(f"{option} {path}: is a folder; give a file name")
    _check_parent(path, option)


def _check_parent(path, option):
    parent = path.absolute().parent
    if not parent.is_dir():
        raise SLTError(f"{option} {path}: the folder {parent} does not exist")
    check_writable_dir(parent, option, path)


def check_writable_dir(directory, option, given):
    """SLTError naming the option and the path the user gave unless this process may create files in `directory`."""
    if not os.access(directory, os.W_OK | os.X_OK):
        raise SLTError(f"{option} {given}: cannot write into {directory} (permission denied)")


@contextlib.contextmanager
def new_folder(path):
    """Yield a temporary folder next to `path`, renamed to `path` when the block ends normally (check_new_folder
    first: `path` must be absent or empty)."""
    path = Path(path)
    tmp = Path(tempfile.mkdtemp(dir=path.absolute().parent, prefix=_temporary_prefix(path), suffix=TEMP_SUFFIX))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
        _fsync_tree(tmp)
        os.replace(tmp, path)
        _fsync(path.absolute().parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
