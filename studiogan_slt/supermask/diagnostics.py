"""Search diagnostics of a masked network: is the search still moving?

Between two looks at a network (StudioGAN's print_freq in a run), the turnover of a masked tensor is the fraction
of its kept entries that were pruned at the previous look: 0 means the ticket has settled, 1 that it was replaced.
Next to it, the mean |score| of kept and of pruned entries says how far the scores have pulled the two sets apart.
One row per network and look; the rows go to the run log (format_row) and to a CSV (append_row), which stays
readable when the process is killed: one line per write, flushed, and a reader drops a last line without its
newline (read_rows). Reading needs no torch (`compare` reads these files), so torch is imported where it is used.
"""
from studiogan_slt import csv_rows

FILE_NAME = "slt_diagnostics.csv"
FIELDS = ("step", "network", "turnover", "most_active", "most_active_turnover", "least_active",
          "least_active_turnover", "score_kept", "score_pruned", "kept", "total")
_TYPES = {**dict.fromkeys(("turnover", "most_active_turnover", "least_active_turnover", "score_kept", "score_pruned"),
                          float), **dict.fromkeys(("step", "kept", "total"), int)}


def mask_diagnostics(before, after, scores):
    """The numbers of one look. before/after: {tensor name: bool mask} at the previous and this look; scores:
    {tensor name: scores} now. Tensors that keep nothing have no turnover and are left out of most/least active
    (ties go to the first name in `after`'s order)."""
    newly_kept = kept = total = 0
    per_tensor = {}
    score_sum = {True: 0.0, False: 0.0}
    for name, mask in after.items():
        mask = mask.bool()
        n_kept, n_new = int(mask.sum()), int((mask & ~before[name].bool()).sum())
        newly_kept, kept, total = newly_kept + n_new, kept + n_kept, total + mask.numel()
        if n_kept:
            per_tensor[name] = n_new / n_kept
        magnitude = scores[name].detach().abs().double()
        score_sum[True] += float(magnitude[mask].sum())
        score_sum[False] += float(magnitude[~mask].sum())
    most = max(per_tensor, key=per_tensor.get) if per_tensor else None
    least = min(per_tensor, key=per_tensor.get) if per_tensor else None
    return {"turnover": newly_kept / kept if kept else None,
            "most_active": most, "most_active_turnover": per_tensor.get(most),
            "least_active": least, "least_active_turnover": per_tensor.get(least),
            "score_kept": score_sum[True] / kept if kept else None,
            "score_pruned": score_sum[False] / (total - kept) if total > kept else None,
            "kept": kept, "total": total}


class SearchMonitor:
    """Remembers each network's masks at the previous look. `start` takes the first snapshot (before the first
    update); `look` returns the row of this look and remembers its masks for the next."""

    def __init__(self):
        self._previous = {}

    def start(self, network, module):
        # lazy: convert loads torch, which reading these rows must not need (module docstring)
        from studiogan_slt.supermask.convert import masked_tensors, masks

        if masked_tensors(module):
            self._previous[network] = masks(module)

    @property
    def networks(self):
        return list(self._previous)

    def look(self, step, network, module):
        # lazy: convert loads torch, which reading these rows must not need (module docstring)
        from studiogan_slt.supermask.convert import masked_tensors, masks

        now = masks(module)
        scores = {mt.name: mt.supermask.scores for mt in masked_tensors(module)}
        row = {"step": step, "network": network, **mask_diagnostics(self._previous[network], now, scores)}
        self._previous[network] = now
        return row


def effective_weights(module):
    """{name: a copy of the weight the forward pass uses}: frozen x mask (x rescale) of every masked weight of a
    converted module, or every parameter of two or more dimensions of a plain one (the tensors a search masks),
    both named as before conversion, so that the two arms of a comparison line up layer by layer."""
    import torch

    # lazy: convert loads torch, which reading these rows must not need (module docstring)
    from studiogan_slt.supermask.convert import masked_tensors

    with torch.no_grad():
        found = {mt.name: getattr(mt.owner, mt.attr).detach().clone() for mt in masked_tensors(module)}
        if found:
            return {name: w for name, w in found.items() if w.dim() >= 2}
        return {name: p.detach().clone() for name, p in module.named_parameters() if p.dim() >= 2}


class LayerMonitor:
    """Per layer, how far each optimiser step moves the network: the relative change ||W' - W|| / ||W|| of the
    effective weight per step (either arm: a search moves it by flipping mask entries, dense training by changing
    the weights), and for a search the fraction of mask entries that flip, summed over steps (flips that undo each
    other count twice) and net over the window. Call `step` after every optimiser step and `window` to read and
    restart the sums; the sums stay on the device until `window`, so a step costs no host synchronisation."""

    def __init__(self, module):
        # lazy: convert loads torch, which reading these rows must not need (module docstring)
        from studiogan_slt.supermask.convert import masks

        self._weights = effective_weights(module)
        self._masks = {name: m for name, m in masks(module).items() if name in self._weights}
        self._start_masks = dict(self._masks)
        self._rel = {name: 0.0 for name in self._weights}
        self._flips = {name: 0 for name in self._masks}
        self._steps = 0

    def step(self, module):
        # lazy: convert loads torch, which reading these rows must not need (module docstring)
        from studiogan_slt.supermask.convert import masks

        weights = effective_weights(module)
        for name, w in weights.items():
            before = self._weights[name]
            self._rel[name] = self._rel[name] + (w - before).norm() / before.norm()
        if self._masks:
            now = {name: m for name, m in masks(module).items() if name in self._weights}
            for name, m in now.items():
                self._flips[name] = self._flips[name] + (m != self._masks[name]).sum()
            self._masks = now
        self._weights = weights
        self._steps += 1

    def window(self, step):
        """One row per layer for the steps since the last window (or the start), then start a new window."""
        rows, n = [], max(self._steps, 1)
        for name, w in self._weights.items():
            row = {"step": step, "layer": name, "fan_in": int(w[0].numel()), "numel": int(w.numel()),
                   "steps": self._steps, "rel_change_per_step": float(self._rel[name]) / n,
                   "flips_per_100_steps": None, "net_flips_per_100_steps": None}
            if name in self._masks:
                per_100 = 100.0 / (n * w.numel())
                row["flips_per_100_steps"] = float(self._flips[name]) * per_100
                row["net_flips_per_100_steps"] = float((self._masks[name] != self._start_masks[name]).sum()) * per_100
            rows.append(row)
        self._start_masks = dict(self._masks)
        self._rel = {name: 0.0 for name in self._weights}
        self._flips = {name: 0 for name in self._masks}
        self._steps = 0
        return rows


def latest(rows):
    """{network: its row of the highest step} of a run's rows."""
    last = {}
    for row in sorted(rows, key=lambda r: r["step"]):
        last[row["network"]] = row
    return last


def _num(value, digits=4):
    return "-" if value is None else f"{value:.{digits}g}"


def format_row(row):
    """The run-log line of one row."""
    return (f"SLT search of {row['network']} at step {row['step']}: mask turnover {_num(row['turnover'])} "
            f"(most active {row['most_active']} {_num(row['most_active_turnover'])}, least active "
            f"{row['least_active']} {_num(row['least_active_turnover'])}); mean |score| kept "
            f"{_num(row['score_kept'])}, pruned {_num(row['score_pruned'])} ({row['kept']:,} of {row['total']:,} kept)")


def append_row(path, row):
    """Append one row to the CSV at path (header first when the file is new or empty), in one flushed write."""
    csv_rows.append(path, row, FIELDS)


def read_rows(path):
    """The rows of a diagnostics CSV, typed; a last line cut short by a killed process is dropped."""
    return csv_rows.read(path, _TYPES)
