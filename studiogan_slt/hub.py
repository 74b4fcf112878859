"""Weights files the plugin fetches into torch's hub cache: the same folder and file names torch.hub and
torchvision use, so a file fetched here is the one their own loaders then read, and one placed there by hand
(offline machines) is used as is.
"""
import fcntl
import os

import torch

from studiogan_slt.atomic import replacing


class FetchFailed(Exception):
    """The file could not be fetched; the message names the cause in one line."""


def hub_checkpoints():
    """The folder torch.hub downloads weights to (follows TORCH_HOME), where offline weights must be placed."""
    return os.path.join(torch.hub.get_dir(), "checkpoints")


def fetch_once(url, path, what, *, hash_prefix=None, log=print):
    """Download `url` to `path` unless it is there, exactly once however many processes ask at the same time.

    DDP ranks, and jobs sharing a cache, all call this: an exclusive lock on `path`.lock lets the first download
    while the others wait, and then find the file. The file appears complete or not at all (temporary name, then a
    rename), with its sha256 prefix checked when torch's naming gives one; torch's progress bar shows on stderr.
    FetchFailed when it cannot be fetched."""
    if os.path.isfile(path):
        return path
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.isfile(path):
                log(f"downloading {what} from {url} to {path}")
                with replacing(path) as tmp:
                    torch.hub.download_url_to_file(url, str(tmp), hash_prefix, progress=True)
    except Exception as err:  # URLError, HTTPError, OSError, timeouts, a wrong hash: all mean "not available here"
        raise FetchFailed(f"{type(err).__name__}: {' '.join(str(err).split())}") from None
    return path
