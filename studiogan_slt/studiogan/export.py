"""Export the generator of a StudioGAN SLT run: as a ticket, or as a dense checkpoint folder unmodified StudioGAN reads.

The run's architecture comes from its log (SAVE/logs/<run>.log), where StudioGAN dumps every config section as JSON
(loader.py:114-116) and the plugin adds its SLT section (hooks.install_config). `build_generator` is the ticket's
builder: from those sections and a StudioGAN checkout it rebuilds the plain generator through StudioGAN's own
models.model.load_generator_discriminator, so a ticket needs nothing but itself and a checkout.
"""
import contextlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import checkpoints, durable, hooks, launch, locate, slt_section

BUILDER = "studiogan"  # build_generator's name in the ticket builder registry (ticket/builders.py)
# What load_generator_discriminator reads to build G (RUN only for mixed_precision, forced off here).
SECTIONS = ("DATA", "MODEL", "STYLEGAN")
# StudioGAN imports models.<MODEL.backbone> (model.py:22), so a ticket may only name one of its own modules.
BACKBONES = ("deep_conv", "resnet", "big_resnet", "big_resnet_deep_legacy", "big_resnet_deep_studiogan",
             *hooks.STYLEGAN_BACKBONES)


def _logged_sections(log_path):
    """{section: values} of the last dump of each section in a StudioGAN run log (eval runs append to it)."""
    text = log_path.read_text(encoding="utf-8", errors="replace")
    found = {}
    decoder = json.JSONDecoder()
    for m in re.finditer(r"cfgs\.(\w+) =\s*\n\[\w+\][^\n>]*> ", text):
        try:
            found[m.group(1)] = decoder.raw_decode(text, m.end())[0]
        except ValueError:
            continue
    return found


def _checkpoint(ckpt_dir, kind, when):
    """The file of `kind` in the newest complete set (a killed save may have left newer files of other kinds)."""
    step = durable.complete_step(ckpt_dir, when)
    path = durable.files(ckpt_dir, when, kind).get((kind, step))
    return Path(path) if path else None


def read_run(ckpt_dir, best=False):
    """(sections, {"G"|"G_ema"|"D": checkpoint path}, run name) of a StudioGAN checkpoint folder; SLTError if the
    folder is not an SLT run."""
    ckpt_dir = Path(ckpt_dir).resolve()
    when = checkpoints.when(best)
    log = ckpt_dir.parent.parent / "logs" / f"{ckpt_dir.name}.log"
    if not log.is_file():
        raise SLTError(f"-ckpt {ckpt_dir}: no run log at {log} (StudioGAN writes SAVE/logs/<run>.log next to "
                       "SAVE/checkpoints/<run>); it holds the config the generator is rebuilt from")
    sections = _logged_sections(log)
    missing = [s for s in SECTIONS + ("SLT",) if s not in sections]
    if missing:
        raise SLTError(f"-ckpt {ckpt_dir}: the run log {log} has no cfgs.{missing[0]} section"
                       + (" (not an SLT run?)" if missing[0] == "SLT" else ""))
    if not slt_section.masks_generator(sections["SLT"]):
        raise SLTError(f"-ckpt {ckpt_dir}: this run did not mask its generator (SLT.k is N/A or train_mode is "
                       f"{slt_section.DENSE_MOMENT_MATCHING}); there is no ticket to export")
    files = {kind: _checkpoint(ckpt_dir, kind, when) for kind in ("G", "G_ema", "D")}
    if files["G"] is None:
        hint = (" (StudioGAN saves a best checkpoint only when it evaluates a metric, so runs with -metrics none "
                "have none; drop -best)" if best else "")
        raise SLTError(f"-ckpt {ckpt_dir}: no {checkpoints.file_pattern('G', when)} checkpoint there{hint}")
    return sections, files, ckpt_dir.name


def _studiogan(studiogan_root=None):
    return launch.import_studiogan(locate.find_root(studiogan_root))


def _build(sg, sections):
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
    build = hooks.original(sg["models.model"].load_generator_discriminator)
    # StudioGAN's EMA constructor print()s (utils/ema.py:20); stdout belongs to the command's own output (report --json).
    with contextlib.redirect_stdout(sys.stderr):
        built = build(cfgs.DATA, cfgs.OPTIMIZATION, cfgs.MODEL, cfgs.STYLEGAN, cfgs.MODULES, cfgs.RUN, "cpu", None)
    return built[0].eval(), built[3].eval()


def build_generator(cfgs, studiogan_root=None):
    """The ticket builder: the plain StudioGAN generator of a run whose DATA/MODEL/STYLEGAN values are `cfgs`. Its
    schema admits only `cfgs`, so a ticket never chooses the checkout (a path whose code would be imported)."""
    return _build(_studiogan(studiogan_root), cfgs)[0]


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


def _converted(model, path, ckpt, k, options):
    from studiogan_slt import convert

    convert(model, k, **options)
    try:
        model.load_state_dict(ckpt["state_dict"], strict=True)
    except RuntimeError as e:
        raise SLTError(f"{path} does not match the run's logged architecture and SLT options: "
                       f"{str(e).splitlines()[0]}") from None
    return model.eval()


def _generator_file(files, sections):
    """StudioGAN evaluates G_ema when the run keeps one (worker.py uses it for sampling and metrics)."""
    return files["G_ema"] if sections["MODEL"].get("apply_g_ema") and files["G_ema"] else files["G"]


def sampler_spec(sections):
    # StyleGAN's G(z, c) maps (z, one-hot c) to styles and synthesises them (stylegan2.py Generator.forward)
    return {"z_dim": int(sections["MODEL"]["z_dim"]), "prior": sections["MODEL"].get("z_prior", "gaussian"),
            "num_classes": int(sections["DATA"]["num_classes"]), "pass_label": True,
            "one_hot": sections["MODEL"].get("backbone") in hooks.STYLEGAN_BACKBONES, "kwargs": {"eval": True}}


def converted_generator(ckpt_dir, best=False, studiogan_root=None):
    """(the run's generator converted and loaded from its checkpoint, sections, checkpoint path, run name)."""
    sections, files, run = read_run(ckpt_dir, best)
    path = _generator_file(files, sections)
    ckpt = durable.load(path)  # before building: a damaged file is one line, not a line after the build's output
    G = _converted(_build(_studiogan(studiogan_root), sections)[0], path, ckpt, sections["SLT"]["k"],
                   slt_section.convert_options(sections["SLT"]))
    return G, sections, path, run


def _ticket_options(sections, path, run):
    """save_ticket's builder, sampler and meta for a run's generator (the report sizes its ticket with them too)."""
    return {"builder": BUILDER, "builder_kwargs": {"cfgs": {s: sections[s] for s in SECTIONS}},
            "sampler": sampler_spec(sections),
            "studiogan": {"run": run, "checkpoint": path.name, "commit": locate.PINNED_COMMIT, "slt": sections["SLT"]}}


def export_ticket(ckpt_dir, output, best=False, studiogan_root=None, tier="auto", values_dtype="float32"):
    atomic.check_writable_file(output)
    return save_run_ticket(*converted_generator(ckpt_dir, best, studiogan_root), output, tier, values_dtype)


def save_run_ticket(G, sections, path, run, output, tier="auto", values_dtype="float32"):
    """The ticket of converted_generator's result (G, sections, path, run) written to `output`."""
    from studiogan_slt import save_ticket

    try:
        return save_ticket(G, output, tier=tier, values_dtype=values_dtype, **_ticket_options(sections, path, run))
    except OSError as e:
        raise SLTError(f"-o {output}: cannot write the ticket ({e.strerror or e})") from None
    except ValueError as e:
        if tier == "auto":
            raise
        # a tier the run's frozen weights cannot be stored in, e.g. seeded for the host's own init
        raise SLTError(f"--tier {tier}: {e}") from None


def export_dense(ckpt_dir, output, best=False, studiogan_root=None):
    """A checkpoint folder with G (and G_ema, D) as plain StudioGAN checkpoints, masks baked in (w * mask)."""
    import torch

    from studiogan_slt import materialize

    out = Path(output)
    atomic.check_new_folder(out)
    sections, files, run = read_run(ckpt_dir, best)
    sg = _studiogan(studiogan_root)
    slt = sections["SLT"]
    with atomic.new_folder(out) as tmp:
        for kind, path in files.items():
            if path is None:
                continue
            ckpt = durable.load(path)
            if kind == "D" and "D" not in slt["targets"]:
                shutil.copyfile(path, tmp / path.name)  # unmasked: already what StudioGAN expects
                continue
            Gen, Dis = _build(sg, sections)
            target = "D" if kind == "D" else "G"  # G_ema is converted like G
            model = _converted(Dis if target == "D" else Gen, path, ckpt, slt["k"],
                               slt_section.convert_options(slt, target))
            # StudioGAN reads run_name, seed, step, best_fid ... from D's file (ckpt.py:83-84, 46-72); the
            # optimizer state is that of the scores, which a dense model does not have.
            kept = {key: v for key, v in ckpt.items() if key != "optimizer"}
            torch.save(dict(kept, state_dict=materialize(model).state_dict()), tmp / path.name)
    return out


def checkpoint_report(ckpt_dir, best=False, studiogan_root=None):
    from studiogan_slt import report
    from studiogan_slt.ticket import sample

    G, sections, path, run = converted_generator(ckpt_dir, best, studiogan_root)
    options = _ticket_options(sections, path, run)
    args, kwargs = sample.example_inputs(sample.check_sampler(options["sampler"]))
    return report(G, args, kwargs, ticket_options=options)
