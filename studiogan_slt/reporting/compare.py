"""Put each run's best metrics next to the matching published baselines and say where the protocols differ.

A run matches a baseline row when the dataset names agree (spelling-insensitive) and the model name equals the run's
config name without the plugin's suffixes -SLT, -MM, -dense (configs/CIFAR10/DCGAN-SLT.yaml -> DCGAN,
SNGAN-MM-dense.yaml -> SNGAN), or the name given with --model.
"""
from studiogan_slt.supermask.diagnostics import format_row, latest
from studiogan_slt.reporting.baselines import PROTOCOL_KEYS, format_metrics, format_protocol, lookup

RUN_METRICS = ("IS", "FID", "Prec", "Rec", "Dns", "Cvg")
# Keys worth a note when a baseline leaves them out; resizer and batch statistics are rarely stated anywhere.
STATED_KEYS = ("backbone", "ref", "num_real", "num_fake", "resolution")


def protocol_differences(run_protocol, baseline_protocol):
    """(differences, unknown): keys whose known values differ, and keys the baseline does not state."""
    differences, unknown = [], []
    for key in PROTOCOL_KEYS:
        ours, theirs = run_protocol.get(key), baseline_protocol.get(key)
        if ours is None:
            continue
        if theirs is None:
            if key in STATED_KEYS:
                unknown.append(key)
        elif str(ours).lower() != str(theirs).lower():
            differences.append(f"{key} {ours} vs {theirs}")
    return differences, unknown


def run_summary(run):
    """A JSON-able dict of what compare reports for one run."""
    best = run.best or {}
    return {"run": run.name, "save_dir": run.save_dir, "dataset": run.cfg("DATA", "name"), "model": run.framework,
            "backbone": run.cfg("MODEL", "backbone"), "train_mode": run.train_mode, "k": run.k,
            "masked": run.masked, "untrained": run.untrained, "kept": run.kept, "total": run.total,
            "best_step": best.get("step"), "last_step": run.last_step, "finished": run.finished,
            "metrics": {**{m: best[m] for m in RUN_METRICS if m in best}, **run.extra},
            "diagnostics": latest(run.diagnostics), "protocol": run.protocol}


def compare(runs, model=None):
    """For each run: its summary plus the matching baselines, each with the protocol differences."""
    out = []
    for run in runs:
        summary = run_summary(run)
        matches = lookup(summary["dataset"], model or summary["model"], exact_model=True)
        summary["baselines"] = []
        for b in matches:
            differences, unknown = protocol_differences(summary["protocol"], b.protocol)
            summary["baselines"].append({"table": b.table, "dataset": b.dataset, "model": b.model, "k": b.k,
                                         "metrics": b.metrics, "protocol": b.protocol, "caveat": b.caveat,
                                         "differences": differences, "not_stated": unknown})
        out.append(summary)
    return out


def _kept(s):
    if s["kept"] is not None and s["total"]:
        return f", kept {s['kept']:,} / {s['total']:,} ({100 * s['kept'] / s['total']:.2f}%)"
    return ""


def format_comparison(summaries):
    lines = []
    for s in summaries:
        kind = f"SLT k={s['k']:g}" if s["masked"] else "dense (k=1)"
        if s["untrained"]:
            kind += ", untrained (lr 0)"
        lines.append(f"== {s['run']}  [{s['save_dir']}]")
        lines.append(f"   {s['dataset']} {s['model']} ({s['backbone']}), {kind}, train_mode {s['train_mode']}"
                     f"{_kept(s)}")
        steps = f"best step {s['best_step']}" if s["best_step"] is not None else "no StudioGAN evaluation logged"
        status = "finished" if s["finished"] else f"not finished (last logged step {s['last_step']})"
        lines.append(f"   {steps}; {status}")
        protocol = format_protocol(s["protocol"]) if s["best_step"] is not None else "no StudioGAN metrics"
        lines.append(f"   run:      {format_metrics(s['metrics']) or '-'}  [{protocol}]")
        lines += [f"   {format_row(row)}" for row in s["diagnostics"].values()]
        if not s["baselines"]:
            lines.append(f"   no published baseline for dataset {s['dataset']} / model {s['model']} "
                         "(try --model NAME, or `studiogan-slt baselines --dataset D`)")
        for b in s["baselines"]:
            k = f" k={b['k']:g}" if b["k"] != 1.0 else ""
            lines.append(f"   {b['table']}: {b['model']}{k}  {format_metrics(b['metrics'])}  "
                         f"[{format_protocol(b['protocol'])}]")
            if b["caveat"]:
                lines.append(f"      caveat: {b['caveat']}")
            if b["differences"]:
                lines.append(f"      WARNING: protocols differ ({'; '.join(b['differences'])}): "
                             "the numbers are not directly comparable")
            if b["not_stated"]:
                lines.append(f"      note: the baseline does not state {', '.join(b['not_stated'])}")
        lines.append("")
    return "\n".join(lines).rstrip()
