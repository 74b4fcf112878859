"""Checks of exported tickets that need StudioGAN imported; driver.py runs them ("call" jobs) in its own process.

The reference generator is built without studiogan_slt.studiogan.rebuild: StudioGAN's own constructor on the run's
YAML, converted with the YAML's SLT options and loaded from the checkpoint file, which is how StudioGAN itself
evaluates an SLT checkpoint (the hook converts right after the build, then utils/ckpt.py loads with strict=True).
"""
import glob
import os
from pathlib import Path

import numpy as np
import torch

from studiogan_slt import convert, load_ticket
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.host import compat, locate
from studiogan_slt.studiogan.section import slt_section
from studiogan_slt.studiogan.section.values import convert_options
from studiogan_slt.ticket import sample as sampling
from studiogan_slt.ticket.save_load import read_ticket
from tests.ticket.test_ticket import _parts, _resealed, _write


def _plain_generator(dense_cfg):
    """(StudioGAN's plain generator for a YAML without an SLT section, its cfgs), built by the original,
    unhooked constructor."""
    sg = compat.import_studiogan(locate.find_root())
    cfgs = sg["config"].Configurations(dense_cfg)
    cfgs.RUN.mixed_precision = False  # set by main.py's argument parser, which is not involved here
    build = compat.original(sg["models.model"].load_generator_discriminator)
    built = build(cfgs.DATA, cfgs.OPTIMIZATION, cfgs.MODEL, cfgs.STYLEGAN, cfgs.MODULES, cfgs.RUN, "cpu", None)
    return built[0].eval(), cfgs


def _loaded_slt(G, slt_cfg, ckpt_dir, kind):
    """G converted with the YAML's SLT options and loaded from the run's `kind` checkpoint."""
    slt = slt_section.load(slt_cfg)
    convert(G, slt["k"], **convert_options(slt))
    (path,) = glob.glob(os.path.join(glob.escape(ckpt_dir), f"model={kind}-current-weights-step=*.pth"))
    G.load_state_dict(torch.load(path, map_location="cpu", weights_only=False)["state_dict"], strict=True)
    return G.eval()


def _identical(a, b):
    return a.shape == b.shape and torch.equal(a.view(torch.int32), b.view(torch.int32))


def compare(slt_cfg, dense_cfg, ckpt_glob, ticket, dense_snapshot, images_out):
    """Outputs for fixed z/labels of: the run's evaluated generator (G_ema when the run has one) as StudioGAN
    loads it, the ticket's rebuilt generator, and the dense export as StudioGAN loaded it (driver snapshot).
    Also saves the reference's images for the first 20 latents of `studiogan-slt sample --seed 0`."""
    (ckpt_dir,) = glob.glob(ckpt_glob)
    reference, cfgs = _plain_generator(dense_cfg)
    kind = "G_ema" if cfgs.MODEL.apply_g_ema else "G"
    reference = _loaded_slt(reference, slt_cfg, ckpt_dir, kind)
    from_ticket = load_ticket(ticket)
    dense, _ = _plain_generator(dense_cfg)
    dense.load_state_dict(torch.load(dense_snapshot, weights_only=False)[kind], strict=True)

    z = torch.randn(8, cfgs.MODEL.z_dim, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(8) % cfgs.DATA.num_classes
    with torch.no_grad():
        out = {name: m(z, labels, eval=True) for name, m in
               (("reference", reference), ("ticket", from_ticket), ("dense", dense))}
        if kind == "G_ema":  # the comparison must tell G from G_ema apart to show which one was exported
            out["G"] = _loaded_slt(_plain_generator(dense_cfg)[0], slt_cfg, ckpt_dir, "G")(z, labels, eval=True)
        spec = sampling.check_sampler(read_ticket(ticket).header["sampler"])
        images = sampling.to_uint8(sampling.call(reference, spec, *sampling.latents(spec, 20, 0)))
    np.save(images_out, images)
    return {"kind": kind, "ticket_identical": _identical(out["ticket"], out["reference"]),
            "dense_identical": _identical(out["dense"], out["reference"]),
            "G_differs": kind == "G_ema" and not torch.equal(out["G"], out["reference"]),
            "ticket_is_plain": not hasattr(from_ticket, "_slt_options"),
            "output_std": float(out["reference"].std())}


def wrong_architecture(ticket, other_dense_cfg):
    """The error of loading a ticket into another StudioGAN generator, or None if it loads."""
    try:
        load_ticket(ticket, model=_plain_generator(other_dense_cfg)[0])
    except SLTError as e:
        return str(e)
    return None


def edit_architecture(ticket, output):
    """Write `ticket` with the generator width in its architecture halved and the header checksum recomputed: the
    builder then makes a smaller generator, which loading must refuse."""
    from safetensors.torch import load as st_load

    blobs = st_load(Path(ticket).read_bytes())
    header = _parts(Path(ticket))[3]
    model = header["architecture"]["kwargs"]["cfgs"]["MODEL"]
    model["g_conv_dim"] //= 2
    _write(Path(output), _resealed(header), blobs)
    return model["g_conv_dim"]
