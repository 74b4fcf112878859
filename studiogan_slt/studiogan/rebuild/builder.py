"""How a ticket rebuilds and calls a StudioGAN generator: its builder and its sampler.

The run's architecture comes from its log (SAVE/logs/<run>.log), where StudioGAN dumps every config section as JSON
(loader.py:114-116) and the plugin adds its SLT section (loop/hooks.install_config). `build_generator` is the
ticket's builder: from those sections and a StudioGAN checkout it rebuilds the plain generator through StudioGAN's
own models.model.load_generator_discriminator, so a ticket needs nothing but itself and a checkout. `sampler_spec`
says how to call it; the digits metric draws with the same spec during training.
"""
import contextlib
import os
import sys
import tempfile

from studiogan_slt.studiogan.host import compat, locate
from studiogan_slt.studiogan.section.values import STYLEGAN_BACKBONES

BUILDER = "studiogan"  # build_generator's name in the ticket builder registry (ticket/builders.py)
# What load_generator_discriminator reads to build G (RUN only for mixed_precision, forced off here).
SECTIONS = ("DATA", "MODEL", "STYLEGAN")
# StudioGAN imports models.<MODEL.backbone> (model.py:22), so a ticket may only name one of its own modules.
BACKBONES = ("deep_conv", "resnet", "big_resnet", "big_resnet_deep_legacy", "big_resnet_deep_studiogan",
             *STYLEGAN_BACKBONES)


def studiogan(studiogan_root=None):
    return compat.import_studiogan(locate.find_root(studiogan_root))


def build(sg, sections):
    """Plain (Gen, Dis) from logged config sections, through StudioGAN's own constructors."""
    import yaml

    base = sg["config"].Configurations.__new__(sg["config"].Configurations)
    base.load_base_cfgs()
    # Only keys StudioGAN's config defines: values set at run time would make _overwrite_cfgs refuse the file.
    known = {s: {k: v for k, v in sections[s].items() if hasattr(getattr(base, s), k)} for s in SECTIONS}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cfg.yaml")
        with open(path, "w") as f:
            yaml.safe_dump(known, f)
        cfgs = sg["config"].Configurations(path)
    cfgs.RUN.mixed_precision = False
    build = compat.original(sg["models.model"].load_generator_discriminator)
    # StudioGAN's EMA constructor print()s (utils/ema.py:20); stdout belongs to the command's own output
    # (report --json).
    with contextlib.redirect_stdout(sys.stderr):
        built = build(cfgs.DATA, cfgs.OPTIMIZATION, cfgs.MODEL, cfgs.STYLEGAN, cfgs.MODULES, cfgs.RUN, "cpu", None)
    return built[0].eval(), built[3].eval()


def build_generator(cfgs, studiogan_root=None):
    """The ticket builder: the plain StudioGAN generator of a run whose DATA/MODEL/STYLEGAN values are `cfgs`. Its
    schema admits only `cfgs`, so a ticket never chooses the checkout (a path whose code would be imported)."""
    return build(studiogan(studiogan_root), cfgs)[0]


# The values that choose StudioGAN's code paths are checked against what its config accepts, and the sizes that
# scale what building allocates are bounded (a ticket's z_dim of 10^7 would build a 328 GB Linear), generously
# above every StudioGAN config; "N/A" where StudioGAN allows it.
_NA = "N/A"


def _size(high):
    return {"any_of": [{"int": [1, high]}, {"one_of": [_NA]}]}


build_generator.schema = {"fields": {"cfgs": {"fields": {
    "DATA": {"fields": {}, "optional": {"img_size": {"int": [1, 1024]}, "num_classes": {"int": [1, 10000]},
                                        "img_channels": {"int": [1, 4]}}, "other": "scalars"},
    "MODEL": {"fields": {"backbone": {"one_of": BACKBONES}}, "optional": {
        "z_dim": {"int": [1, 1024]}, "w_dim": _size(1024), "g_shared_dim": _size(1024), "g_conv_dim": _size(256),
        "g_depth": _size(16), "info_num_discrete_c": _size(1024), "info_num_conti_c": _size(1024),
        "info_dim_discrete_c": _size(1024), "g_act_fn": {"one_of": ["ReLU", "Leaky_ReLU", "ELU", "GELU", "Auto"]},
        "g_cond_mtd": {"one_of": ["W/O", "cBN", "cAdaIN"]}, "g_info_injection": {"one_of": [_NA, "concat", "cBN"]}},
              "other": "scalars"},
    "STYLEGAN": {"fields": {}, "other": "scalars"}}}}}


def sampler_spec(sections):
    # StyleGAN's G(z, c) maps (z, one-hot c) to styles and synthesises them (stylegan2.py Generator.forward)
    return {"z_dim": int(sections["MODEL"]["z_dim"]), "prior": sections["MODEL"].get("z_prior", "gaussian"),
            "num_classes": int(sections["DATA"]["num_classes"]), "pass_label": True,
            "one_hot": sections["MODEL"].get("backbone") in STYLEGAN_BACKBONES, "kwargs": {"eval": True}}


def ticket_options(sections, path, run):
    """save_ticket's builder, sampler and meta for a run's generator (the report sizes its ticket with them too)."""
    return {"builder": BUILDER, "builder_kwargs": {"cfgs": {s: sections[s] for s in SECTIONS}},
            "sampler": sampler_spec(sections),
            "studiogan": {"run": run, "checkpoint": path.name, "commit": locate.PINNED_COMMIT, "slt": sections["SLT"]}}
