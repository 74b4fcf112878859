"""Mask-aware reports: kept counts per masked tensor, dense and ideal sparse MACs, and file sizes per storage tier.

MACs are measured, not estimated from shapes: one forward pass on an example input under
torch.utils.flop_counter.FlopCounterMode, whose module hooks attribute every matmul/convolution to the module that
ran it (so custom layers with raw weights count too). A masked weight's row gets its module's MACs per image; the
ideal sparse count is dense x kept fraction. Executed MACs stay dense: unstructured masks do not speed up dense
kernels, so "ideal" is what a kernel that skips zeros could reach, not what PyTorch runs.
"""
import io
import json
from dataclasses import asdict, dataclass

import torch

from studiogan_slt.supermask.convert import masked_tensors, materialize, slt_options
from studiogan_slt.ticket import save_load, tiers

EXECUTED_NOTE = ("Executed MACs stay dense: unstructured masks do not speed up dense kernels; ideal sparse MACs "
                 "(dense x kept fraction) need kernels that skip zeros.")


@dataclass
class Row:
    name: str
    type: str
    shape: list
    total: int
    kept: int
    macs: int = None  # dense MACs per image of the owning module (weight rows only)

    @property
    def fraction(self):
        return self.kept / self.total if self.total else 0.0

    @property
    def ideal_macs(self):
        return None if self.macs is None else round(self.macs * self.fraction)


@dataclass
class Report:
    rows: list
    k: float
    scope: str
    model_macs: int = None  # dense MACs per image of the whole forward pass, masked or not
    sizes: dict = None  # {"dense_fp32": torch.save of the plain state_dict, "bitmask_raw": ticket with 1 bit per
    #                      mask entry, "ticket": the entropy-coded ticket}, bytes

    @property
    def totals(self):
        total, kept = sum(r.total for r in self.rows), sum(r.kept for r in self.rows)
        out = {"total": total, "kept": kept, "fraction": kept / total if total else 0.0}
        if self.model_macs is not None:
            masked = sum(r.macs or 0 for r in self.rows)
            ideal_masked = sum(r.ideal_macs or 0 for r in self.rows)
            out.update(masked_macs=masked, masked_ideal_macs=ideal_masked, other_macs=self.model_macs - masked,
                       model_macs=self.model_macs, model_ideal_macs=self.model_macs - masked + ideal_masked)
        return out

    def to_dict(self):
        rows = [dict(asdict(r), fraction=r.fraction, ideal_macs=r.ideal_macs) for r in self.rows]
        return {"k": self.k, "scope": self.scope, "rows": rows, "totals": self.totals, "sizes": self.sizes,
                "note": EXECUTED_NOTE}

    def to_json(self):
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self):
        t = self.totals
        head = ["name", "type", "shape", "total", "kept", "kept %", "dense MACs", "ideal MACs"]
        body = [[r.name, r.type, "x".join(map(str, r.shape)), _n(r.total), _n(r.kept), f"{100 * r.fraction:.2f}",
                 _n(r.macs), _n(r.ideal_macs)] for r in self.rows]
        foot = ["total", "", "", _n(t["total"]), _n(t["kept"]), f"{100 * t['fraction']:.2f}",
                _n(t.get("masked_macs")), _n(t.get("masked_ideal_macs"))]
        widths = [max(len(line[i]) for line in [head, foot] + body) for i in range(len(head))]

        def fmt(line):
            return "  ".join(c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths)))

        rule = "-" * len(fmt(head))
        lines = [f"Strong lottery ticket: k = {self.k:g} kept ({self.scope} scope), {len(self.rows)} masked tensors",
                 fmt(head), rule, *map(fmt, body), rule, fmt(foot)]
        if self.model_macs is not None:
            lines.append(f"Whole model per image: {_n(t['model_macs'])} dense MACs ({_n(t['other_macs'])} in "
                         f"unmasked layers); ideal sparse {_n(t['model_ideal_macs'])}.")
        else:
            lines.append("MACs not measured (no example input).")
        lines.append(EXECUTED_NOTE)
        if self.sizes:
            dense = self.sizes.get("dense_fp32")
            parts = [f"{label} {_mb(self.sizes.get(key), dense)}" for key, label in
                     (("dense_fp32", "dense fp32 state_dict"), ("bitmask_raw", "raw-bitmask ticket"),
                      ("ticket", "this ticket")) if self.sizes.get(key) is not None]
            lines.append("File size: " + "; ".join(parts) + ".")
        return "\n".join(lines)


def _n(v):
    return "-" if v is None else f"{v:,}"


def _mb(nbytes, dense):
    ratio = f", {dense / nbytes:.1f}x smaller" if dense and nbytes != dense else ""
    return f"{nbytes / 1e6:.3f} MB ({nbytes:,} B{ratio})"


def measure_macs(module, example_inputs, example_kwargs=None):
    """({module path: MACs per image}, whole-model MACs per image) of one eval-mode forward pass."""
    from torch.utils.flop_counter import FlopCounterMode

    args = example_inputs if isinstance(example_inputs, (tuple, list)) else (example_inputs,)
    batch = next(a.shape[0] for a in args if isinstance(a, torch.Tensor) and a.dim())
    was_training = module.training
    module.eval()  # BN must use, not update, its running statistics
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(*args, **(example_kwargs or {}))
    finally:
        module.train(was_training)
    per_module = {}
    for key, ops in counter.get_flop_counts().items():
        if key == "Global":
            continue
        path = key.partition(".")[2]  # keys are "<root class>.<path>"
        per_module[path] = sum(ops.values()) // 2 // batch
    return per_module, counter.get_total_flops() // 2 // batch


def _rows(entries, per_module):
    rows = []
    for name, type_name, shape, kept in entries:
        owner, _, attr = name.rpartition(".")
        macs = per_module.get(owner, 0) if per_module is not None and attr.startswith("weight") else None
        rows.append(Row(name, type_name, list(shape), int(torch.Size(shape).numel()), int(kept), macs))
    return rows


def dense_bytes(plain_module):
    buf = io.BytesIO()
    torch.save(plain_module.state_dict(), buf)
    return buf.tell()


def report(module, example_inputs=None, example_kwargs=None, *, sizes=True, ticket_options=None):
    """Report for a converted module. example_inputs (a tensor or tuple of forward args, batch first) turns on MAC
    measurement; sizes=True also encodes the ticket in memory to report exact file sizes, with ticket_options
    (save_ticket's keyword arguments: builder, sampler, meta, ...) as the ticket would be saved."""
    opts = slt_options(module)
    per_module, model_macs = (None, None) if example_inputs is None else measure_macs(module, example_inputs,
                                                                                       example_kwargs)
    with torch.no_grad():
        entries = [(mt.name, tiers.original_type(mt.owner), mt.frozen.shape, int(mt.supermask.mask().sum()))
                   for mt in masked_tensors(module)]
    file_sizes = None
    if sizes:
        options = dict(ticket_options or {})
        file_sizes = {"dense_fp32": dense_bytes(materialize(module)),
                      "bitmask_raw": len(save_load.encode(module, **dict(options, codec="none"))),
                      "ticket": len(save_load.encode(module, **options))}
    return Report(_rows(entries, per_module), opts["k"], opts["scope"], model_macs, file_sizes)


def ticket_report(ticket, model, example_inputs=None, example_kwargs=None):
    """Report for a verified studiogan_slt.ticket.save_load.Ticket whose weights are loaded into the plain `model`."""
    per_module, model_macs = (None, None) if example_inputs is None else measure_macs(model, example_inputs,
                                                                                      example_kwargs)
    entries = [(e["name"], e["type"], e["shape"], e["kept"]) for e in ticket.header["masked"]]
    file_sizes = {"dense_fp32": dense_bytes(model), "bitmask_raw": len(ticket.recode("none")),
                  "ticket": ticket.nbytes}
    opts = ticket.header["options"]
    return Report(_rows(entries, per_module), opts["k"], opts["scope"], model_macs, file_sizes)
