"""Read StudioGAN run folders (the -save directory) without importing StudioGAN.

A -save folder SAVE holds one log per run, SAVE/logs/<run>.log, written by StudioGAN's logger with the format
`[LEVEL] YYYY-mm-dd HH:MM:SS > message`; a message may span several lines (the config dump, model summaries).
What is read from it:
  - `cfgs.<SECTION> =` followed by a JSON dump of that config section (loader.py), including the plugin's `SLT`
    section. No SLT section (a plain StudioGAN run) means a dense run: k = 1.
  - evaluation blocks, each opened by `Start Evaluation (<step> Step): <run>` and holding the lines
    `<N> real images is used for evaluation.`, `Inception score (Step: S, N generated images): X`,
    `FID score (Step: S, Using <ref> moments): X`, `Improved Precision|Improved Recall|Density|Coverage
    (Step: S, Using <ref> images): X` (worker.py evaluate);
  - training progress `Step: N Progress: ...` (worker.py LOG_FORMAT) and `End of training!`;
  - the plugin's ticket report of the generator, `SLT ticket of G (k=K):` followed by studiogan_slt.report's table,
    whose footer row `total  ...  TOTAL  KEPT  KEPT%` counts the generator's masked tensors (hooks.convert_models).
Evaluation mode and resuming (`-ckpt DIR`) reopen the training run's log (utils/ckpt.py load_StudioGAN_ckpts) and
append to it without a new config dump, so their evaluation blocks are read too; each block keeps the reference
split its own lines name (`Using <ref> ...`), which may differ from the one in the training run's config.

Metrics computed outside StudioGAN are picked up from SAVE/statistics/<run>/digits_fid.json (written by
`studiogan-slt digits-fid ... --out`); they appear as metrics digits_FID, digits_train_FID, digits_KID (with
digits_KID_std), digits_heldout_KID, digits_memorisation and digits_hist_tv. The plugin's search diagnostics,
SAVE/statistics/<run>/slt_diagnostics.csv (studiogan_slt.supermask.diagnostics), are read into Run.diagnostics.
"""
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from studiogan_slt.supermask import diagnostics
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.section import values

_NUM = r"([-+0-9.eE]+|nan|inf)"
_PATTERNS = {
    "start": re.compile(r"^Start Evaluation \((\d+) Step\)"),
    "real": re.compile(r"^(\d+) real images is used for evaluation\.$"),
    "IS": re.compile(r"^Inception score \(Step: (\d+), (\d+) generated images\): " + _NUM + "$"),
    "FID": re.compile(r"^FID score \(Step: (\d+), Using (\w+) moments\): " + _NUM + "$"),
    "Prec": re.compile(r"^Improved Precision \(Step: (\d+), Using (\w+) images\): " + _NUM + "$"),
    "Rec": re.compile(r"^Improved Recall \(Step: (\d+), Using (\w+) images\): " + _NUM + "$"),
    "Dns": re.compile(r"^Density \(Step: (\d+), Using (\w+) images\): " + _NUM + "$"),
    "Cvg": re.compile(r"^Coverage \(Step: (\d+), Using (\w+) images\): " + _NUM + "$"),
    "step": re.compile(r"^Step:\s+(\d+) Progress:"),
    "ticket": re.compile(r"^SLT ticket of G \(k=[^)]*\):\n"),
    "ticket_total": re.compile(r"^total\s+([\d,]+)\s+([\d,]+)\s+[\d.]+(?:\s|$)", re.MULTILINE),
}
IMAGENET_LIKE = ("ImageNet", "Baby_ImageNet", "Papa_ImageNet", "Grandpa_ImageNet")  # loader.py num_eval rule
SIDE_METRICS = "digits_fid.json"


@dataclass
class Run:
    name: str
    save_dir: str
    log_path: str
    sections: dict
    evals: list = field(default_factory=list)  # dicts: step, FID, IS, Prec, Rec, Dns, Cvg, num_real, num_fake
    last_step: int = None
    finished: bool = False
    kept: int = None
    total: int = None
    wall_seconds: float = None
    extra: dict = field(default_factory=dict)  # metrics from outside StudioGAN (digits_FID, ...)
    diagnostics: list = field(default_factory=list)  # rows of slt_diagnostics.csv, in step order

    def cfg(self, section, key, default=None):
        return self.sections.get(section, {}).get(key, default)

    @property
    def slt(self):
        return self.sections.get("SLT")

    @property
    def train_mode(self):
        return (self.slt or {}).get("train_mode", values.ADVERSARIAL)

    @property
    def masked(self):
        """True when the generator was searched for a ticket (SLT), False for dense runs."""
        return values.masks_generator(self.slt)

    @property
    def k(self):
        return float(self.slt["k"]) if self.masked else 1.0

    @property
    def search(self):
        """How the generator was trained or searched: "moment_matching" or "adversarial"."""
        moments = self.train_mode in values.MOMENT_MODES
        return values.MOMENT_MATCHING if moments else values.ADVERSARIAL

    @property
    def untrained(self):
        """The generator never changed: a learning rate of 0 (the controls of the reproduction)."""
        return self.cfg("OPTIMIZATION", "g_lr") == 0

    @property
    def framework(self):
        """StudioGAN's model name: the config file name without the plugin's suffixes (DCGAN-SLT, SNGAN-MM-dense)
        and a sweep point's (DCGAN-SLT-k0.1-s0, DCGAN-SLT-dense-s0)."""
        cfg_file = self.cfg("RUN", "cfg_file") or self.name
        return re.sub(r"([-_](SLT|MM|dense|k\d[\d.]*(e-?\d+)?|s\d+))+$", "", Path(str(cfg_file)).stem,
                      flags=re.IGNORECASE)

    @property
    def protocol(self):
        best = self.best or {}
        return {"backbone": self.cfg("RUN", "eval_backbone"), "ref": best.get("ref", self.cfg("RUN", "ref_dataset")),
                "num_real": best.get("num_real"), "num_fake": best.get("num_fake"),
                "resolution": self.cfg("DATA", "img_size"), "post_resizer": self.cfg("RUN", "post_resizer"),
                "batch_stat": self.cfg("RUN", "batch_statistics")}

    @property
    def best(self):
        """The evaluation with the lowest FID (the latest on ties, like StudioGAN's `<=`), or None."""
        scored = [e for e in self.evals if e.get("FID") is not None and not math.isnan(e["FID"])]
        return min(reversed(scored), key=lambda e: e["FID"]) if scored else None

    def metric(self, name):
        """A metric value by name: StudioGAN's best-FID evaluation (FID, IS, Prec, ...) or an extra one."""
        if name in self.extra:
            return self.extra[name]
        return (self.best or {}).get(name)


def _num_fake(run, block):
    if "num_fake" in block:
        return block["num_fake"]
    if run.cfg("DATA", "name") in IMAGENET_LIKE and block.get("ref", run.cfg("RUN", "ref_dataset")) == "train":
        return 50000
    return block.get("num_real")


def parse_log(path, save_dir=None):
    """Parse one StudioGAN log file into a Run; SLTError if it is not one."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise SLTError(f"cannot read {path}: {e.strerror or e}") from None
    entries = run_files.log_entries(lines)
    run = Run(name=path.stem, save_dir=str(save_dir or path.parent.parent), log_path=str(path),
              sections=run_files.logged_sections(entries))
    block, announced, dumped = None, None, set()
    for _, msg in entries:
        if announced is not None:  # the section's JSON, read above
            dumped.add(announced)
            announced = None
            continue
        announced = run_files.section_name(msg)
        if announced is not None:
            continue
        if msg.startswith("Run name : ") and "RUN" not in dumped:
            run.name = msg[len("Run name : "):].strip() or run.name
        elif _PATTERNS["start"].match(msg):
            block = {"step": int(_PATTERNS["start"].match(msg)[1])}
            run.evals.append(block)
        elif msg.strip() == "End of training!":
            run.finished = True
        elif (m := _PATTERNS["step"].match(msg)):
            run.last_step = int(m[1])
        elif _PATTERNS["ticket"].match(msg) and (m := _PATTERNS["ticket_total"].search(msg)):
            run.total, run.kept = (int(g.replace(",", "")) for g in m.groups())
        elif block is not None:
            _read_metric(msg, block)
    if "RUN" not in run.sections and "DATA" not in run.sections:
        if any(msg.startswith("Generator checkpoint is ") for _, msg in entries):
            # StudioGAN appends an evaluation or a resumed run to <-save>/logs/<run>.log of the *new* -save
            raise SLTError(f"{path}: only what `eval`/resuming with -ckpt appended, without the run's config; use "
                           "the -save folder the run was trained in (evaluate with that same -save)")
        raise SLTError(f"{path}: not a StudioGAN run log (no `cfgs.RUN =` / `cfgs.DATA =` config dump)")
    for block in run.evals:
        block["num_fake"] = _num_fake(run, block)
    if entries:
        times = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S") for t, _ in (entries[0], entries[-1])]
        run.wall_seconds = (times[1] - times[0]).total_seconds()
    run.extra = _side_metrics(Path(run_files.statistics_file(run.save_dir, run.name, SIDE_METRICS)))
    diagnosed = Path(run_files.statistics_file(run.save_dir, run.name, diagnostics.FILE_NAME))
    if diagnosed.is_file():
        run.diagnostics = diagnostics.read_rows(diagnosed)
    return run


def _read_metric(msg, block):
    m = _PATTERNS["real"].match(msg)
    if m:
        block["num_real"] = int(m[1])
        return
    for name in ("IS", "FID", "Prec", "Rec", "Dns", "Cvg"):
        m = _PATTERNS[name].match(msg)
        if m:
            block[name] = float(m[3])
            if name == "IS":
                block["num_fake"] = int(m[2])
            else:
                block["ref"] = m[2]
            return


def _side_metrics(path):
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise SLTError(f"{path}: not valid JSON") from None
    return {"digits_FID": data.get("fid"), "digits_train_FID": data.get("fid_train"), "digits_KID": data.get("kid"),
            "digits_KID_std": data.get("kid_std"), "digits_heldout_KID": data.get("kid_valid"),
            "digits_memorisation": data.get("memorisation"), "digits_hist_tv": data.get("hist_tv")}


def find_runs(save_dir):
    """Every run under a -save folder (SAVE/logs/*.log), in name order. SLTError if there is none."""
    save = Path(save_dir)
    if not save.is_dir():
        raise SLTError(f"{save_dir}: no such folder (expected a StudioGAN -save folder with logs/<run>.log)")
    logs = run_files.log_files(save)
    if not logs:
        raise SLTError(f"{save_dir}: no logs/<run>.log files; pass the folder given to -save")
    return [parse_log(p, save) for p in logs]


def load_runs(save_dirs):
    return [run for d in save_dirs for run in find_runs(d)]
