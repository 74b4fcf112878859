"""The rules every digits study reads its points by, in one place: the target (issue 15), a curve's best and last
save, how a ticket/dense ratio is taken (a KID above its real-vs-real floor, an FID plain; over seeds), how a gap
moves, the floors and the memorisation sentence (issue 25). Plain Python on the kept rows: no run, no file."""


TARGET, TARGET_SEEDS = 1.1, 5  # issue 15: the ticket within 10% of the dense generator, over 5 seeds each


def finished(rows, steps):
    """Whether a digits curve reached its budget. StudioGAN runs steps 0 to total_steps inclusive, and the plugin
    scores the generator after the last one (step total_steps + 1) where no save fell there; points kept before that
    final save end at total_steps."""
    return rows[-1]["step"] >= steps


def best(rows):
    """The best save of a digits curve (lowest train-split FID): the checkpoint a search keeps."""
    return min(rows, key=lambda r: r["value"])


def last(rows):
    """The last save of a digits curve: where the search ended, whatever it scored."""
    return max(rows, key=lambda r: r["step"])


def mean_std(values):
    """(mean, sample std; None for a single value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    return mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def fmt_mean_std(values, spec):
    """"mean ± std" of `values`, both in the format `spec` (the mean alone for a single value)."""
    mean, std = mean_std(values)
    return f"{mean:{spec}}" + ("" if std is None else f" ± {std:{spec}}")


def above(ticket, dense, floor):
    """ticket / dense, each measured from the real-vs-real floor (what real digits score): the one way the studies
    read a KID ratio. Unbiased KID goes below 0 and so do its floors, so a plain ratio explodes or flips sign where
    dense sits near 0. None where dense is at or below the floor."""
    return (ticket - floor) / (dense - floor) if dense > floor else None


def mean_above(pairs, floor):
    """above() of the arms' means over [(ticket, dense)] KIDs paired by seed: a KID near 0 makes a per-seed
    ratio noise, so over seeds the studies take the ratio of the means. None for no pairs."""
    return above(*(mean_std(arm)[0] for arm in zip(*pairs)), floor) if pairs else None


KIDS = ("kid", "kid_valid")  # the metrics read above their floors (above); an FID is read plain


def ratio(metric, ticket, dense, floors):
    """ticket over dense on `metric`: a KID above its floor in `floors` (digits_metrics.floors), an FID plain."""
    return above(ticket, dense, floors[metric][0]["value"]) if metric in KIDS else ticket / dense


UNORDERED = "does not move one way"  # direction() of values that go up and down


def direction(values):
    """How a gap moves along an ordered axis (width, budget): "grows" or "shrinks" only where every step goes that
    way; comparing the ends alone called 1.61, 2.38, 1.73 a gap that grows."""
    steps = [b - a for a, b in zip(values, values[1:])]
    return "grows" if all(s > 0 for s in steps) else "shrinks" if all(s < 0 for s in steps) else UNORDERED


def ratio_text(ratio):
    """A ratio at 2 decimals, "-" where there is none (above's None)."""
    return "-" if ratio is None else f"{ratio:.2f}"


def within(fid, kid):
    """The target: a ticket within TARGET of dense on train-split FID and on KID above its floor (None: no ratio)."""
    return fid <= TARGET and kid is not None and kid <= TARGET


def gap(pairs, kid_floor):
    """Issue 15's comparison of [(SLT best row, dense best row)] paired by seed: (the per-seed FID ratios, the
    ratio of the mean KIDs above the KID's real-vs-real floor `kid_floor` (above; None where dense is at or below
    it), whether both are within TARGET)."""
    ratios = [s["value"] / d["value"] for s, d in pairs]
    kid_ratio = mean_above([(s["kid"], d["kid"]) for s, d in pairs], kid_floor)
    return ratios, kid_ratio, within(mean_std(ratios)[0], kid_ratio)


def t_interval(values):
    """(low, high) of the 95% interval of the mean of `values` (Student's t over the seeds), None for one value:
    how far the mean could sit from the one measured, given the seeds' own spread."""
    mean, std = mean_std(values)
    if std is None:
        return None
    from scipy.stats import t

    half = t.ppf(0.975, len(values) - 1) * std / len(values) ** 0.5
    return mean - half, mean + half


def seeds_text(values):
    """"mean ± std (n seeds)" of `values` at 3 significant digits: a cell of the studies' paired tables."""
    mean, std = mean_std(values)
    return f"{mean:.3g} (1 seed)" if std is None else f"{mean:.3g} ± {std:.2g} ({len(values)} seeds)"


def held_out(rows, key, spec):
    """"mean ± std" of `key` (kid_valid, memorisation) over the rows that have it, with how many of them do where
    some were scored before the metric existed (points kept before issue 25); "-" where none has it."""
    known = [r[key] for r in rows if r.get(key) is not None]
    if not known:
        return "-"
    return fmt_mean_std(known, spec) + ("" if len(known) == len(rows) else f" ({len(known)} of {len(rows)} seeds)")


MEMORISATION_FLAG = 0.9  # a memorisation ratio below this gets a sentence in the reports (issue 25)


def memorisation_line(named, what):
    """The sentence every study writes of the memorisation ratios it reports ([(name, ratio)], `what` they are):
    their range, and each one below MEMORISATION_FLAG named: closer to the training digits than unseen digits are,
    so its train-split metrics flatter it."""
    values = [value for _, value in named]
    low = [f"{name} ({value:.2f})" for name, value in named if value < MEMORISATION_FLAG]
    return (f"Memorisation ratios {min(values):.2f}-{max(values):.2f} ({len(values)} {what}): "
            + (f"below {MEMORISATION_FLAG:g} for {', '.join(low)}: closer to the training digits than unseen digits "
               "are, so their train-split metrics flatter them." if low else
               f"every one at or above {MEMORISATION_FLAG:g}, none copies the training digits"
               + ("; above 1, each is farther from the training digits than unseen digits are" if min(values) > 1
                  else "") + "."))


def floor_lines(floors):
    """The markdown list of the real-vs-real floors (digits_metrics.floors) of the metrics the studies report."""
    lines = ["Real-vs-real floors of the metrics (what a perfect generator would score):"]
    for name in ("fid_train", "kid", "kid_valid", "memorisation"):
        for f in floors[name]:
            spread = f" ± {f['std']:.4g}" if f["std"] is not None else ""
            lines.append(f"- {name}: {f['value']:.4g}{spread} ({f['sample']}, {f['num_fake']} vs {f['num_real']})")
    return lines
