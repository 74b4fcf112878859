"""Run StudioGAN's own entry point (main.py + loader.load_worker) with every plugin hook applied.

Order matters: validate the SLT section (nothing imported, nothing written), find the checkout and put its src/
first on sys.path, install the import shims, import StudioGAN, patch, then hand StudioGAN the user's arguments.
With -DDP the plugin spawns its own child entry, because spawned children import StudioGAN afresh and would lose
every patch if StudioGAN's main.py:181 spawned loader.load_worker directly.
"""
import contextlib
import errno
import logging
import multiprocessing
import os
import pickle
import shlex
import sys
from pathlib import Path

from studiogan_slt.errors import Interrupted, SLTError, Terminated
from studiogan_slt.studiogan import preflight, run_files, summary
from studiogan_slt.studiogan.host import compat, locate
from studiogan_slt.studiogan.host.argv import flag_value, flag_values
from studiogan_slt.studiogan.loop import digits_selection, hooks, stopping
from studiogan_slt.studiogan.section import digits_defaults, slt_section
from studiogan_slt.supermask.options import is_number

_log = logging.getLogger(__name__)

def _check_argv(argv, mode):
    cfg = flag_value(argv, "-cfg", "--cfg_file")
    if cfg is None:
        raise SLTError("-cfg CFG is required: a StudioGAN YAML, with an SLT: section for an SLT run")
    train_flag = any(a in ("-t", "--train") for a in argv)
    ckpt = flag_value(argv, "-ckpt", "--ckpt_dir")
    if mode == "eval":
        if train_flag:
            raise SLTError("eval does not train; use `studiogan-slt train ... -ckpt DIR` to resume training")
        if ckpt is None:
            raise SLTError("eval needs -ckpt CKPT_DIR (a SAVE/checkpoints/<run> folder)")
        preflight.check_eval_has_work(argv, flag_values(argv, "-metrics", "--eval_metrics") or ["fid"])
    elif not train_flag:
        argv = ["-t", *argv]
    if ckpt is not None:
        if not Path(ckpt).is_dir():
            raise SLTError(f"-ckpt {ckpt}: no such folder")
        run_files.check(ckpt, run_files.when(any(a in ("-best", "--load_best") for a in argv)))
    preflight.check_writable_folder(flag_value(argv, "-save", "--save_dir") or "./", "-save")
    workers = flag_value(argv, "--num_workers")
    if workers is not None and workers.lstrip("-").isdigit() and int(workers) < 1:
        # loader.py:193 builds the train DataLoader with persistent_workers=True, which needs a worker process.
        raise SLTError("--num_workers must be >= 1 (StudioGAN's train loader keeps persistent workers)")
    return cfg, argv


def _check_data(cfgs):
    if cfgs.RUN.train and cfgs.DATA.name == "DIGITS" and cfgs.PRE.apply_rflip:
        _log.warning("PRE.apply_rflip is true (StudioGAN's default): the digits are mirrored at random while "
                     "training, and a mirrored digit is not a digit; add `PRE: {apply_rflip: false}` to the YAML")
    if cfgs.DATA.name in ("CIFAR10", "CIFAR100") or cfgs.RUN.data_dir is None:
        return  # torchvision downloads these into -data (main.py:160); StudioGAN asserts on a missing -data
    needed = ["train"] if cfgs.RUN.train else []
    if [m for m in cfgs.RUN.eval_metrics if m != "none"]:
        needed.append(cfgs.RUN.ref_dataset)
    for split in needed:
        if not (Path(cfgs.RUN.data_dir) / split).is_dir():
            raise SLTError(f"-data {cfgs.RUN.data_dir}: no {split}/ folder (StudioGAN reads "
                           f"{cfgs.DATA.name} as an ImageFolder: {split}/<class>/*.png); "
                           "`studiogan-slt data digits -o DIR` writes one")
        preflight.check_class_folders(cfgs.RUN.data_dir, split)


def _check_optimizer(cfgs):
    """config.py:519-529 passes OPTIMIZATION.momentum and .nesterov to torch's SGD; their default is "N/A"
    (config.py:240-242), which torch rejects with a traceback at the first step. Edge-popup trains scores with SGD,
    so say what to set."""
    o = cfgs.OPTIMIZATION
    if o.type_ == "SGD":
        for key, allowed in (("momentum", "a number >= 0, e.g. 0.9"), ("nesterov", "true or false")):
            value = getattr(o, key)
            if value == "N/A" or (key == "nesterov" and not isinstance(value, bool)) or \
                    (key == "momentum" and (not is_number(value) or value < 0)):
                raise SLTError(f"OPTIMIZATION.{key}: {value!r} is not allowed with type_ SGD; use {allowed}")


def _check_canvas(cfgs, misc):
    """Training (at every save) and -v draw a canvas of fakes; for a class-conditional model with fewer than 8
    images per class in a batch, sample.py:48 asserts the per-process batch is a multiple of 8. Say so before
    training rather than at the first save. The sampler choice is StudioGAN's own (misc.py:335-343)."""
    if not (cfgs.RUN.train or cfgs.RUN.vis_fake_images):
        return
    batch = cfgs.OPTIMIZATION.batch_size // cfgs.OPTIMIZATION.world_size  # loader.py:162, per process
    sampler = misc.define_sampler(cfgs.DATA.name, cfgs.MODEL.d_cond_mtd, batch, cfgs.DATA.num_classes)
    if sampler == "acending_some" and batch % 8:
        raise SLTError(f"OPTIMIZATION.batch_size: {batch} images per process is not allowed for a class-conditional "
                       f"model: StudioGAN's image canvas (drawn at every save and by -v) needs a multiple of 8, "
                       f"or at least {8 * cfgs.DATA.num_classes}")


def _device_mode():
    return compat.cpu_mode() if compat.no_gpu() else contextlib.nullcontext()


def run(argv, mode="train", studiogan_root=None, nproc=1, export=None):
    """Run StudioGAN in this process with `argv` (its own command-line arguments); mode is "train" or "eval".
    After training, the summary (summary.after_train; `export` as there)."""
    cfg_file, argv = _check_argv(list(argv), mode)
    slt = slt_section.load(cfg_file)
    argv = digits_defaults.fill_in(argv, cfg_file, mode)
    if nproc > 1 and not compat.no_gpu():
        raise SLTError("--nproc is for CPU runs; with GPUs, -DDP uses every visible GPU (see CUDA_VISIBLE_DEVICES)")
    if nproc > 1 and not any(a in ("-DDP", "--distributed_data_parallel") for a in argv):
        raise SLTError("--nproc > 1 needs -DDP (StudioGAN's multi-process mode)")
    preflight.check_torch()
    root = locate.find_root(studiogan_root, fetch_missing=True)
    sg = compat.import_studiogan(root)
    build = compat.original(sg["models.model"].load_generator_discriminator)
    hooks.install(sg, slt, run_checks=lambda cfgs: (_check_data(cfgs), _check_optimizer(cfgs),
                                                    _check_canvas(cfgs, sg["utils.misc"]),
                                                    digits_selection.check(cfgs),
                                                    preflight.check_targets(cfgs, slt, build),
                                                    compat.ensure_eval_weights(cfgs, sg)))
    plugin = [*(["--nproc", str(nproc)] if nproc > 1 else []),
              *(["--studiogan-root", str(studiogan_root)] if studiogan_root else []),
              *({True: ["--export"], False: ["--no-export"]}.get(export, []))]
    with compat.fake_cuda_devices(nproc), stopping.on_sigterm():
        saved_argv, sys.argv = sys.argv, ["main.py", *argv]
        try:
            cfgs, gpus_per_node, run_name, hdf5_path, rank = sg["main"].load_configs_initialize_training()
        finally:
            sys.argv = saved_argv
        try:
            if cfgs.RUN.distributed_data_parallel and cfgs.OPTIMIZATION.world_size > 1:
                import torch.multiprocessing as mp

                compat.prepare_distributed(cfgs)
                mp.spawn(_ddp_child, nprocs=gpus_per_node,
                         args=(str(root), slt, nproc, pickle.dumps(cfgs), gpus_per_node, run_name, hdf5_path))
            else:
                with _device_mode():
                    sg["loader"].load_worker(local_rank=rank, cfgs=cfgs, gpus_per_node=gpus_per_node,
                                             run_name=run_name, hdf5_path=hdf5_path)
            if stopping.asked():  # after the last step: its checkpoint is saved, the rest is not wanted
                stopping.stop()
        except KeyboardInterrupt:
            raise _stopped(Interrupted, "interrupted", argv, mode, plugin, cfgs, run_name) from None
        except Terminated:
            raise _stopped(Terminated, "terminated (SIGTERM)", argv, mode, plugin, cfgs, run_name) from None
        except OSError as err:
            if err.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # the checkpoint being saved was not half-written (run_files.save_model): the last complete one stays
            raise _stopped(SLTError, f"no space left on the device ({err.strerror})", argv, mode, plugin, cfgs,
                           run_name) from None
    if mode == "train" and cfgs.RUN.current_node == 0:  # only node 0 holds the checkpoints (global rank 0)
        summary.after_train(cfgs, run_name, slt, export=export, studiogan_root=root)
    return run_name


def _stopped(error, what, argv, mode, plugin, cfgs, run_name):
    """Ctrl-C, SIGTERM or a full disk (`error`, said as `what`): which checkpoint is the last complete one and the
    command that resumes from it, the plugin's own flags (`plugin`) included; the DataLoader workers are ended
    first (_end_children), since it is the last line printed."""
    _end_children()
    folder = summary.checkpoint_folder(cfgs, run_name)
    step = run_files.complete_step(folder, run_files.CURRENT) if os.path.isdir(folder) else None
    if mode != "train":
        return error(what)
    if step is None:
        return error(f"{what} before the first checkpoint was saved; there is nothing to resume from")
    again, skip = [], False
    for arg in argv:
        if skip or arg in ("-t", "--train"):
            skip = False
        elif arg in ("-ckpt", "--ckpt_dir"):
            skip = True
        elif not arg.startswith(("-ckpt=", "--ckpt_dir=")):
            again.append(arg)
    return error(f"{what}; the last complete checkpoint is step {step} in {folder}; resume with: "
                 f"studiogan-slt train {shlex.join([*plugin, *again, '-ckpt', folder])}")


def _end_children():
    """End this process's children (DataLoader workers) before the last line is printed. Ctrl-C can land while the
    main process is taking a batch's shared memory from a worker; the worker's resource-sharer thread then prints a
    ConnectionResetError traceback, which otherwise can come after the line that names the checkpoint."""
    children = multiprocessing.active_children()
    for child in children:
        child.terminate()
    for child in children:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()
            child.join()


def _ddp_child(local_rank, root, slt, nproc, cfgs_bytes, gpus_per_node, run_name, hdf5_path):
    """Entry of every DDP process: re-apply the shims and hooks (this process imported nothing yet), then run
    StudioGAN's worker. cfgs travels pickled, because unpickling it imports StudioGAN modules, which needs the
    shims first."""
    sg = compat.import_studiogan(root)
    hooks.install(sg, slt)
    cfgs = pickle.loads(cfgs_bytes)
    if compat.no_gpu() and "OMP_NUM_THREADS" not in os.environ:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // nproc))  # the processes share the CPU cores
    with compat.fake_cuda_devices(nproc), _device_mode():
        sg["loader"].load_worker(local_rank, cfgs, gpus_per_node, run_name, hdf5_path)
