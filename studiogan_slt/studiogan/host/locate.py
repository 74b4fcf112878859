"""Find the user's PyTorch-StudioGAN checkout and make its flat `src/` importable.

StudioGAN is not a package: its modules have generic top-level names (`config`, `utils`, `models`, `worker`, ...)
and are imported with `src/` on sys.path. The plugin never ships or edits StudioGAN files; it uses, in this order,
the --studiogan-root option, the STUDIOGAN_ROOT variable, or the pinned clone that `studiogan-slt studiogan fetch`
puts in the user cache.
"""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from studiogan_slt.cache import cache_dir
from studiogan_slt.errors import SLTError

REPO_URL = "https://github.com/POSTECH-CVLab/PyTorch-StudioGAN.git"
PINNED_COMMIT = "947b35e"
ENV_VAR = "STUDIOGAN_ROOT"
# What the plugin imports or patches; a folder without them is not a StudioGAN checkout.
REQUIRED_FILES = ("src/main.py", "src/config.py", "src/loader.py", "src/worker.py", "src/models/model.py",
                  "src/utils/ckpt.py", "src/utils/misc.py")
# Top-level module names StudioGAN's src/ defines; another module of the same name imported first would shadow it.
TOP_LEVEL_MODULES = ("config", "loader", "worker", "main", "data_util", "utils", "models", "metrics",
                     "sync_batchnorm")

HOW_TO_PROVIDE = (f"pass --studiogan-root DIR, set {ENV_VAR}=DIR, or run `studiogan-slt studiogan fetch` "
                  f"(git clone of {REPO_URL} at {PINNED_COMMIT} into the user cache)")


def pinned_clone_dir():
    return cache_dir() / f"PyTorch-StudioGAN-{PINNED_COMMIT}"


def _missing_files(root):
    return [f for f in REQUIRED_FILES if not (root / f).is_file()]


def _checked(root, origin):
    root = Path(root).expanduser().resolve()
    missing = _missing_files(root)
    if missing:
        raise SLTError(f"{origin} {root} is not a PyTorch-StudioGAN checkout (missing {missing[0]}); {HOW_TO_PROVIDE}")
    return root


def find_root(cli_root=None, fetch_missing=False, log=print):
    """The StudioGAN checkout to use, as an absolute Path. With none found: SLTError (one line, the three ways), or
    with fetch_missing (train and eval: a first run needs no separate step) the pinned clone is made, said in one
    line; a fetch that fails (offline) is still one line."""
    if cli_root:
        return _checked(cli_root, "--studiogan-root")
    if os.environ.get(ENV_VAR):
        return _checked(os.environ[ENV_VAR], ENV_VAR)
    clone = pinned_clone_dir()
    if clone.is_dir() and not _missing_files(clone):
        return clone.resolve()
    if not fetch_missing:
        raise SLTError(f"no PyTorch-StudioGAN checkout found; {HOW_TO_PROVIDE}")
    log(f"no PyTorch-StudioGAN checkout found: cloning {REPO_URL} at {PINNED_COMMIT} into {clone} (once; "
        f"--studiogan-root DIR or {ENV_VAR}=DIR use your own)")
    try:
        return fetch(clone).resolve()
    except SLTError as err:
        raise SLTError(f"no PyTorch-StudioGAN checkout found and {err}") from None


def activate(root):
    """Put <root>/src first on sys.path; refuse if same-named modules from elsewhere are already imported."""
    src = str(Path(root) / "src")
    for name in TOP_LEVEL_MODULES:
        mod = sys.modules.get(name)
        origin = getattr(mod, "__file__", None) or next(iter(getattr(mod, "__path__", [])), None)
        if mod is not None and origin and not os.path.abspath(origin).startswith(src + os.sep):
            raise SLTError(f"a module named {name!r} from {origin} is already imported and would shadow "
                           f"StudioGAN's src/{name}; run studiogan-slt in a fresh process")
    if sys.path[:1] != [src]:
        if src in sys.path:
            sys.path.remove(src)
        sys.path.insert(0, src)
    return src


def fetch(dest=None):
    """git clone StudioGAN at the pinned commit into the user cache (or dest); returns the checkout path."""
    dest = Path(dest) if dest else pinned_clone_dir()
    if dest.is_dir() and not _missing_files(dest):
        return dest
    if shutil.which("git") is None:
        raise SLTError(f"`git` is not installed, so StudioGAN cannot be fetched; {HOW_TO_PROVIDE}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Clone into a temporary sibling and rename, so an interrupted fetch never leaves a half checkout at dest.
    tmp = Path(tempfile.mkdtemp(prefix=".fetch-", dir=dest.parent))
    try:
        for cmd in (["git", "clone", "--quiet", "--filter=blob:none", "--no-checkout", REPO_URL, str(tmp)],
                    ["git", "-C", str(tmp), "checkout", "--quiet", PINNED_COMMIT]):
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                reason = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
                raise SLTError(f"fetching StudioGAN failed ({reason}); {HOW_TO_PROVIDE}")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest
