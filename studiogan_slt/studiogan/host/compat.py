"""Run-time fixes that let an unmodified StudioGAN (commit 947b35e) run on CPU and with torch 2.x.

Every shim names the StudioGAN file:line it answers; delete it when upstream fixes that line. None of them edits a
StudioGAN file. The CUDA-faking shims apply only when no GPU is present, so GPU runs are untouched.
"""
import contextlib
import importlib
import importlib.util
import os
import sys
import types

from studiogan_slt.errors import SLTError
from studiogan_slt.hub import FetchFailed, fetch_once, hub_checkpoints
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.host import locate
from studiogan_slt.studiogan.host.wandb_log import WANDB_STUB, studiogan_wandb


def no_gpu():
    import torch

    return not torch.cuda.is_available()


# --- importing StudioGAN -------------------------------------------------------------------------------

STUDIOGAN_MODULES = ("config", "loader", "worker", "main", "models.model", "utils.ckpt", "utils.misc",
                     "metrics.inception_net")


def import_studiogan(root):
    """Import StudioGAN from `root` with the compatibility shims in place; returns {module name: module}."""
    locate.activate(root)
    install_import_shims()
    run_files.allow_checkpoint_globals()
    with quiet_imports():
        sg = {name: importlib.import_module(name) for name in STUDIOGAN_MODULES}
    patch_modules(sg)
    return sg


def install_import_shims():
    """Stand-ins for modules StudioGAN imports at top level but that may be missing or unusable."""
    # utils/style_ops/conv2d_gradfix.py:14 and grid_sample_gradfix.py:15 import pkg_resources.parse_version, which
    # setuptools >= 81 no longer ships; both are imported for every backbone (via losses.py).
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        from packaging.version import parse

        sys.modules["pkg_resources"] = types.SimpleNamespace(__name__="pkg_resources", parse_version=parse)
    # loader.py:22 and worker.py:45 `import wandb` at top level; without wandb installed, a no-op stub stands in.
    if "wandb" not in sys.modules and importlib.util.find_spec("wandb") is None:
        sys.modules["wandb"] = WANDB_STUB


@contextlib.contextmanager
def quiet_imports():
    """Silence two import-time notices that say nothing about the run but would bury a one-line error on stderr:
    utils/custom_ops.py:18 imports torch.utils.cpp_extension, which logs "No CUDA runtime is found" on a CPU-only
    machine (StudioGAN's style ops use their reference code there), and metrics/swin_transformer.py:35 imports
    timm's deprecated timm.models.layers (a FutureWarning)."""
    import logging
    import warnings

    cpp_log = logging.getLogger("torch.utils.cpp_extension")
    level = cpp_log.level
    cpp_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Importing from timm.models.layers", category=FutureWarning)
            yield
    finally:
        cpp_log.setLevel(level)


# --- CPU: CUDA queries and "cuda" device strings -----------------------------------------------------------------

@contextlib.contextmanager
def fake_cuda_devices(nproc):
    """Make torch.cuda report `nproc` devices without a GPU, for the duration of a run.

    main.py:129 reads the GPU count and rank from torch.cuda (crashes without a driver); the count becomes the
    world size (main.py:133), so a CPU DDP run with N processes needs it to be N. loader.py:95 calls
    torch.cuda.set_device(local_rank) in every DDP process. Restored on exit so the process is left as found.
    """
    import torch

    if not no_gpu():
        yield
        return
    saved = {name: getattr(torch.cuda, name) for name in ("device_count", "current_device", "set_device")}
    torch.cuda.device_count = lambda: nproc
    torch.cuda.current_device = lambda: 0
    torch.cuda.set_device = lambda device: None
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(torch.cuda, name, fn)


def _is_cuda(device):
    import torch

    if isinstance(device, bool):
        return False
    if isinstance(device, int):
        return True
    if isinstance(device, str):
        return device.startswith("cuda")
    return isinstance(device, torch.device) and device.type == "cuda"


def cpu_mode():
    """A TorchFunctionMode that sends every CUDA device request to the CPU.

    StudioGAN uses the int local_rank as its device everywhere (`.to(local_rank)`, `device=local_rank`: model.py,
    sample.py, worker.py) and hard-codes "cuda" in worker.py:146,152,1069-1070,1535, fid.py:86, ins.py:105,
    features.py:94, prdc.py:53, misc.py:554 and sample.py:219; ckpt.py:45 moves optimizer state with `.cuda()`.
    local_rank stays the int 0, so StudioGAN's `== 0` rank checks (logging, saving) keep working.
    """
    import torch
    from torch.overrides import TorchFunctionMode

    class CudaToCpu(TorchFunctionMode):
        def __torch_function__(self, func, types_, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func is torch.Tensor.cuda:
                return args[0]
            if "device" in kwargs and _is_cuda(kwargs["device"]):
                kwargs = dict(kwargs, device="cpu")
            # Only Tensor.to takes a device positionally (`.to(local_rank)`); other methods take data there, e.g.
            # torchvision's inception_v3 init calls tensor.new_tensor(-2, device="cpu") (torch/nn/init.py:114).
            if func is torch.Tensor.to and len(args) > 1 and _is_cuda(args[1]):
                args = (args[0], "cpu", *args[2:])
            return func(*args, **kwargs)

    return CudaToCpu()


_ORIGINAL = "_slt_original"


def original(fn):
    """StudioGAN's own function behind any wrapper these hooks installed."""
    return getattr(fn, _ORIGINAL, fn)


def wrapping(wrapped, wrapper):
    setattr(wrapper, _ORIGINAL, wrapped)
    return wrapper


# --- after StudioGAN is imported ---------------------------------------------------------------------------------

def patch_modules(sg):
    """Module-attribute fixes; `sg` maps StudioGAN module names to the imported modules."""
    for name in ("loader", "worker"):
        sg[name].wandb = studiogan_wandb()
    ckpt = sg["utils.ckpt"]
    if not getattr(ckpt.load_best_model, "_slt_wrapped", False):
        ckpt.load_best_model = _best_model_or_current(ckpt.load_best_model)
    model = sg["models.model"]
    if no_gpu() and not getattr(model.DDP, "_slt_wrapped", False):
        model.DDP = _cpu_ddp(model.DDP)


def _best_model_or_current(load_best_model):
    """loader.py:443 calls ckpt.load_best_model unconditionally after training, and ckpt.py:139 indexes [0] of the
    `model=G-best-*` glob: an IndexError whenever no evaluation ever marked a best model (e.g. `-metrics none`).
    Without a best checkpoint, keep the models as they are and report the step of the current checkpoint."""

    def wrapper(ckpt_dir, Gen, Dis, apply_g_ema, Gen_ema, ema):
        if run_files.find(ckpt_dir, "G", "best"):
            return load_best_model(ckpt_dir, Gen, Dis, apply_g_ema, Gen_ema, ema)
        current = run_files.find(ckpt_dir, "D", "current")
        return (run_files.step(current[0]) if current else None) or 0

    wrapper._slt_wrapped = True
    return wrapper


def _cpu_ddp(ddp_class):
    """model.py:168-180 wraps with DDP(..., device_ids=[device]); torch rejects device_ids for CPU modules."""

    def make(module, device_ids=None, **kwargs):
        on_cpu = all(p.device.type == "cpu" for p in module.parameters())
        return ddp_class(module, device_ids=None if on_cpu else device_ids, **kwargs)

    make._slt_wrapped = True
    return make


def prepare_distributed(cfgs):
    """CPU DDP: gloo instead of the default nccl (main.py:41), and the env:// rendezvous misc.py:177 expects."""
    if no_gpu():
        cfgs.RUN.backend = "gloo"
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if "MASTER_PORT" not in os.environ:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            os.environ["MASTER_PORT"] = str(s.getsockname()[1])


def ensure_eval_weights(cfgs, sg):
    """The default metric network (InceptionV3_tf) downloads its weights at run time (inception_net.py:130, reached
    from loader.py:300); offline that ends in a urllib traceback. Fetch the file up front in this process (so DDP
    children find it) and turn a failure into one line naming the file and the folder to put it in."""
    metrics = [m for m in cfgs.RUN.eval_metrics if m != "none"]
    if not (metrics or cfgs.RUN.intra_class_fid) or cfgs.RUN.eval_backbone != "InceptionV3_tf":
        return

    url = sg["metrics.inception_net"].FID_WEIGHTS_URL
    name = url.rsplit("/", 1)[-1]
    folder = hub_checkpoints()
    try:
        fetch_once(url, os.path.join(folder, name), "the Inception weights of -metrics")
    except FetchFailed as err:
        raise SLTError(f"-metrics {' '.join(metrics)} needs the Inception weights {name}, which could not be "
                       f"downloaded ({err}); place the file in {folder}/ (from {url}) "
                       "or use -metrics none") from None
