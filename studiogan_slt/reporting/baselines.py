"""StudioGAN's reported results and the paper's published numbers, shipped as studiogan_slt/data/baselines.json.

Tables (ids): studiogan_benchmark (README benchmark, TPAMI'23), studiogan_reproducibility (original paper vs
StudioGAN), studiogan_v0.3.0 (older 10k-protocol tables) and paper (Yeo et al., project page). Each table has a
default `protocol`; a row's own `protocol` overrides it. Protocol keys: backbone (StudioGAN's -eval_backbone
spelling), ref (reference split), num_real, num_fake, resolution, post_resizer, batch_stat; null = not stated.
"""
import json
import re
from dataclasses import dataclass, field
from importlib import resources

PROTOCOL_KEYS = ("backbone", "ref", "num_real", "num_fake", "resolution", "post_resizer", "batch_stat")
METRIC_ORDER = ("IS", "FID", "Prec", "Rec", "Dns", "Cvg", "IFID", "paper_IS", "paper_FID")


@dataclass
class Baseline:
    table: str
    dataset: str
    model: str
    metrics: dict
    protocol: dict
    k: float = 1.0  # fraction kept; every StudioGAN row is a dense model
    params: float = None
    caveat: str = None
    notes: list = field(default_factory=list)


def normalize(name):
    """Spelling-insensitive key: 'Baby-ImageNet' == 'Baby_ImageNet', 'BigGAN + DiffAug' == 'BigGAN-DiffAug'."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def load_tables():
    """The raw JSON tables (list of dicts with id, title, source, protocol, notes, rows)."""
    text = resources.files("studiogan_slt.data").joinpath("baselines.json").read_text(encoding="utf-8")
    return json.loads(text)["tables"]


def all_baselines():
    out = []
    for table in load_tables():
        for row in table["rows"]:
            protocol = {key: table["protocol"].get(key) for key in PROTOCOL_KEYS}
            protocol.update(row.get("protocol", {}))
            out.append(Baseline(table=table["id"], dataset=row["dataset"], model=row["model"],
                                metrics=dict(row["metrics"]), protocol=protocol, k=row.get("k", 1.0),
                                params=row.get("params"), caveat=row.get("caveat"), notes=list(table["notes"])))
    return out


def lookup(dataset=None, model=None, *, exact_model=False, table=None):
    """Rows whose dataset matches (spelling-insensitive) and whose model starts with `model` (BigGAN: BigGAN,
    BigGAN + DiffAug, ...), or equals it with exact_model=True (as used when matching a run to its baseline)."""
    rows = all_baselines()
    if table is not None:
        rows = [b for b in rows if b.table == table]
    if dataset is not None:
        rows = [b for b in rows if normalize(b.dataset) == normalize(dataset)]
    if model is not None:
        key = normalize(model)
        rows = [b for b in rows if (normalize(b.model) == key if exact_model else normalize(b.model).startswith(key))]
    return rows


def table_ids():
    return [t["id"] for t in load_tables()]


def format_protocol(protocol):
    p = protocol
    images = f"{_n(p.get('num_real'))} real / {_n(p.get('num_fake'))} fake"
    res = f"{p['resolution']} px" if p.get("resolution") else "? px"
    return f"{p.get('backbone') or '?'}, ref {p.get('ref') or '?'}, {images}, {res}"


def _n(value):
    return "?" if value is None else f"{value:,}"


def format_metrics(metrics):
    keys = [m for m in METRIC_ORDER if metrics.get(m) is not None] + sorted(
        m for m in metrics if m not in METRIC_ORDER and isinstance(metrics[m], (int, float)))
    return "  ".join(f"{m} {metrics[m]:.4g}" for m in keys)


def format_rows(rows):
    """Rows grouped by table, each table with its title, source and notes, as printable text."""
    tables = {t["id"]: t for t in load_tables()}
    lines = []
    for tid in dict.fromkeys(b.table for b in rows):
        t = tables[tid]
        lines += [f"== {tid}: {t['title']}", f"   source: {t['source']}"] + [f"   note: {n}" for n in t["notes"]]
        for b in (b for b in rows if b.table == tid):
            k = "" if b.k == 1.0 else f"  k={b.k:g}"
            params = f"  params {b.params / 1e6:.3g}M" if b.params else ""
            lines.append(f"   {b.dataset:<17} {b.model:<22}{k}{params}  {format_metrics(b.metrics)}"
                         f"  [{format_protocol(b.protocol)}]")
            if b.caveat:
                lines.append(f"      caveat: {b.caveat}")
        lines.append("")
    return "\n".join(lines).rstrip()
