"""Checks that run before StudioGAN writes anything, for mistakes StudioGAN reports late or not in one line.

launch.run calls the argv checks before StudioGAN is imported, and the config checks from run_checks, i.e. after
StudioGAN's own checks and before main.py:158 creates the -save folders: a run that is going to fail leaves no
half-made -save folder behind.
"""
import contextlib
import os
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.section.values import convert_options, masks_generator
from studiogan_slt.supermask import options as supermask_options
from studiogan_slt.supermask.select import find_targets

MIN_TORCH = (2, 6)
# The flags that give an eval run something to do besides -metrics (main.py:113-127 prints its help otherwise).
EVAL_WORK = ("-sr", "--save_real_images", "-sf", "--save_fake_images", "-v", "--vis_fake_images", "-knn",
             "--k_nearest_neighbor", "-itp", "--interpolation", "-fa", "--frequency_analysis", "-tsne",
             "--tsne_analysis", "-ifid", "--intra_class_fid", "--GAN_train", "--GAN_test", "-sefa",
             "--semantic_factorization")


def check_torch():
    """Below torch 2.6, torch.load defaults to weights_only=False, and StudioGAN's own loads (utils/ckpt.py:30,
    ckpt.py:83) would unpickle whatever a checkpoint file holds, i.e. run its code."""
    import torch

    version = tuple(int(p) for p in torch.__version__.split("+")[0].split(".")[:2])
    if version < MIN_TORCH:
        raise SLTError(f"torch {torch.__version__}: StudioGAN runs need torch >= {'.'.join(map(str, MIN_TORCH))}, "
                       "where torch.load refuses to run code stored in a checkpoint")


def check_eval_has_work(argv, metrics):
    if metrics == ["none"] and not any(a in EVAL_WORK for a in argv):
        raise SLTError("eval with -metrics none has nothing to do; add a metric (-metrics fid is prdc) or an "
                       "output such as -v (image canvas) or -sf (fake images)")


def check_writable_folder(folder, option):
    """The folder, or the nearest existing folder above it that would hold it, must be writable."""
    path = Path(folder).absolute()
    existing = next(p for p in (path, *path.parents) if p.exists())
    if not existing.is_dir():
        raise SLTError(f"{option} {folder}: {existing} is not a folder")
    atomic.check_writable_dir(existing, option, folder)


def check_class_folders(data_dir, split):
    """torchvision's ImageFolder raises FileNotFoundError from deep inside StudioGAN's loader for a class folder
    with no image in it."""
    from torchvision.datasets.folder import IMG_EXTENSIONS

    root = Path(data_dir) / split
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not any(f.suffix.lower() in IMG_EXTENSIONS for f in folder.rglob("*") if f.is_file()):
            raise SLTError(f"-data {data_dir}: the class folder {split}/{folder.name} holds no image "
                           f"({', '.join(IMG_EXTENSIONS[:4])}, ...); remove it or add its images")


def check_targets(cfgs, slt, original_build):
    """`SLT.include`/`exclude`/`types` that select no layer fail in convert(), after StudioGAN created the -save
    folders; build the plain networks once on the CPU and select the targets first."""
    if not masks_generator(slt):
        return
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):  # utils/ema.py:20 print()s
        built = original_build(cfgs.DATA, cfgs.OPTIMIZATION, cfgs.MODEL, cfgs.STYLEGAN, cfgs.MODULES, cfgs.RUN, "cpu",
                               None)
    for name in slt["targets"]:
        model = built[0] if name == "G" else built[3]
        options = supermask_options.validate(slt["k"], convert_options(slt, name))
        targets, _ = find_targets(model, options["types"], options["include"], options["exclude"],
                                  options["first_last_dense"], options["mask_bias"])
        if not targets:
            raise SLTError(f"-cfg {cfgs.RUN.cfg_file}: SLT include={options['include']}, exclude={options['exclude']}"
                           f", types={options['types']} select no layer of {name}; nothing would be masked")
