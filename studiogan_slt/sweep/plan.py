"""The grid of a sweep: one point per (k, seed), plus dense reference points, each with its own YAML.

A point's YAML is the user's YAML with SLT.k and SLT.seed set; a dense point is what the same search mode calls
dense (see studiogan/section/values.py): for the adversarial mode the YAML without its SLT section (a plain
StudioGAN run), keeping only its `moments` (a mixed search's dense reference trains with the same loss) and
`digits_metric`; for the moment-matching modes train_mode dense_moment_matching with the same `moments:` options (same loss,
G's weights trained, nothing masked). The YAML's file name becomes StudioGAN's run name (main.py:136), so every
point gets its own name: <config>-k<k>-s<seed>, or <config>-dense-s<seed>.
"""
from dataclasses import dataclass
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan.section import slt_section, values
from studiogan_slt.supermask.options import k_problem


@dataclass(frozen=True)
class Point:
    name: str
    seed: int
    sections: dict     # the point's YAML, section by section
    masked: bool       # an SLT search (its ticket is exported) or a dense reference


def _read(cfg_file):
    """(the YAML's sections, its validated SLT values): one-line errors for a bad file or SLT section, before anything
    is planned."""
    sections = slt_section.read(cfg_file)
    return sections, slt_section.values_of(sections, cfg_file)


def _dense_sections(sections):
    slt = sections.get("SLT") or {}
    dense = {key: value for key, value in sections.items() if key != "SLT"}
    if slt.get("train_mode", values.ADVERSARIAL) in values.MOMENT_MODES:
        kept = {"train_mode": values.DENSE_MOMENT_MATCHING, "moments": slt.get("moments", {})}
    else:
        # a mixed search's reference trains with the same moment loss (a section without k: slt_section.DENSE_KEYS)
        kept = {"moments": slt["moments"]} if slt.get("moments") else {}
    if slt.get("digits_metric") is not None:
        kept["digits_metric"] = slt["digits_metric"]  # the dense reference scores itself the same way
    if kept:
        dense["SLT"] = kept
    return dense


def plan(cfg_file, ks, seeds, dense=False, dense_cfg=None):
    """The points of a sweep, dense references first. `dense_cfg`: a YAML of its own for the dense points (e.g. with
    the dense arm's learning rate), used as written; otherwise they are derived from `cfg_file`."""
    sections, slt = _read(cfg_file)
    stem = Path(cfg_file).stem
    if ks and not values.masks_generator(slt):
        raise SLTError(f"-cfg {cfg_file}: --k needs a YAML whose SLT section searches a ticket (train_mode "
                       f"{values.ADVERSARIAL} or {values.MOMENT_MATCHING})")
    if not ks and not dense:
        raise SLTError("nothing to run: give --k VALUES and/or --dense")
    for k in ks:
        if k_problem(k):
            raise SLTError(f"--k {k:g} is not allowed; use numbers in (0, 1], the fraction of weights KEPT")
    if len(set(ks)) < len(ks) or len(set(seeds)) < len(seeds):
        raise SLTError("--k and --seeds take distinct values")
    points = []
    if dense:
        dense_sections = _read(dense_cfg)[0] if dense_cfg else _dense_sections(sections)
        dense_stem = Path(dense_cfg).stem if dense_cfg else f"{stem}-dense"
        points += [Point(f"{dense_stem}-s{s}", s, dense_sections, masked=False) for s in seeds]
    for k in ks:
        for s in seeds:
            slt = {**sections["SLT"], "k": k, "seed": s}
            points.append(Point(f"{stem}-k{k:g}-s{s}", s, {**sections, "SLT": slt}, masked=True))
    return points


def write_yaml(point, path):
    import yaml

    atomic.write_text(path, yaml.safe_dump(point.sections, sort_keys=False))
