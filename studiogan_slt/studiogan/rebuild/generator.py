"""A run read back from its folder: its logged config sections and checkpoint files, and its generator converted
and loaded from them."""
from pathlib import Path

from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.rebuild import builder
from studiogan_slt.studiogan.section.values import DENSE_MOMENT_MATCHING, convert_options, masks_generator
from studiogan_slt.supermask.convert import convert


def _checkpoint(ckpt_dir, kind, when):
    """The file of `kind` in the newest complete set (a killed save may have left newer files of other kinds)."""
    step = run_files.complete_step(ckpt_dir, when)
    path = run_files.files(ckpt_dir, when, kind).get((kind, step))
    return Path(path) if path else None


def read_run(ckpt_dir, best=False):
    """(sections, {"G"|"G_ema"|"D": checkpoint path}, run name) of a StudioGAN checkpoint folder; SLTError if the
    folder is not an SLT run."""
    ckpt_dir = Path(ckpt_dir).resolve()
    when = run_files.when(best)
    log = run_files.log_file(*run_files.run_of(ckpt_dir))
    if not log.is_file():
        raise SLTError(f"-ckpt {ckpt_dir}: no run log at {log} (StudioGAN writes SAVE/logs/<run>.log next to "
                       "SAVE/checkpoints/<run>); it holds the config the generator is rebuilt from")
    sections = run_files.logged_sections(
        run_files.log_entries(log.read_text(encoding="utf-8", errors="replace").splitlines()))
    missing = [s for s in builder.SECTIONS + ("SLT",) if s not in sections]
    if missing:
        raise SLTError(f"-ckpt {ckpt_dir}: the run log {log} has no cfgs.{missing[0]} section"
                       + (" (not an SLT run?)" if missing[0] == "SLT" else ""))
    if not masks_generator(sections["SLT"]):
        raise SLTError(f"-ckpt {ckpt_dir}: this run did not mask its generator (SLT.k is N/A or train_mode is "
                       f"{DENSE_MOMENT_MATCHING}); there is no ticket to export")
    files = {kind: _checkpoint(ckpt_dir, kind, when) for kind in ("G", "G_ema", "D")}
    if files["G"] is None:
        hint = (" (StudioGAN saves a best checkpoint only when it evaluates a metric, so runs with -metrics none "
                "have none; drop -best)" if best else "")
        raise SLTError(f"-ckpt {ckpt_dir}: no {run_files.file_pattern('G', when)} checkpoint there{hint}")
    return sections, files, ckpt_dir.name


def converted(model, path, ckpt, k, options):
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


def converted_generator(ckpt_dir, best=False, studiogan_root=None):
    """(the run's generator converted and loaded from its checkpoint, sections, checkpoint path, run name)."""
    sections, files, run = read_run(ckpt_dir, best)
    path = _generator_file(files, sections)
    ckpt = run_files.load(path)  # before building: a damaged file is one line, not a line after the build's output
    G = converted(builder.build(builder.studiogan(studiogan_root), sections)[0], path, ckpt, sections["SLT"]["k"],
                   convert_options(sections["SLT"]))
    return G, sections, path, run
