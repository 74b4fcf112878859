"""The reading of second_network.py's scores: per evaluation network and checkpoint, the ticket / dense ratios
paired by seed, the verdict band of each, whether the verdict is the same under every network (a verdict that flips
between networks is not a verdict, issue 25), the memorisation ratios, the noise of one latent draw and the check
that needs no network (pixel values); the markdown block of docs/results.md."""
from study_rules import KIDS, MEMORISATION_FLAG, TARGET, TARGET_SEEDS, floor_lines, fmt_mean_std, mean_above, \
    mean_std, ratio, ratio_text

CHECKPOINTS = ("last", "best")
METRICS = {"fid_train": "train-split FID", "kid": "KID", "kid_valid": "held-out KID"}


def ratios(ticket, dense, network, checkpoint):
    """{metric: (per-seed ratios, ratio over seeds)} of ticket over dense at the seeds both have under `network`:
    the train-split FID's over seeds is the mean of the per-seed ratios, a KID's the ratio of the means above that
    network's floor (study_rules.mean_above). None where there is no ratio."""
    seeds = sorted(s for s, n in ticket if n == network and (s, n) in dense)
    found = {}
    for metric in METRICS:
        pairs = [(ticket[s, network]["checkpoints"][checkpoint][metric],
                  dense[s, network]["checkpoints"][checkpoint][metric]) for s in seeds]
        floors = ticket[seeds[0], network]["floors"] if seeds else {}
        per_seed = [ratio(metric, t, d, floors) for t, d in pairs]
        if metric in KIDS:
            over = mean_above(pairs, floors[metric][0]["value"]) if pairs else None
        else:
            over = mean_std(per_seed)[0] if pairs else None
        found[metric] = (dict(zip(seeds, per_seed)), over)
    return found


def by_network(ticket, dense, checkpoint):
    """{network: {metric: ratio over seeds}} at `checkpoint`, for the networks under which both arms have paired
    seeds: agreement()'s input."""
    found = {n: ratios(ticket, dense, n, checkpoint) for n in sorted({n for _, n in ticket} & {n for _, n in dense})}
    return {n: {metric: over for metric, (_, over) in r.items()} for n, r in found.items() if r["fid_train"][0]}


def verdict(ratio):
    """The ticket against dense on one metric: within TARGET either way, ahead, behind (None: no ratio)."""
    if ratio is None:
        return None
    return "behind" if ratio > TARGET else "ahead" if ratio < 1 / TARGET else f"within {TARGET}x"


def _words(by_network):
    """{metric: {network: its verdict band}} of one checkpoint's {network: {metric: ratio over seeds}}."""
    return {metric: {n: verdict(by_network[n][metric]) for n in sorted(by_network)} for metric in METRICS}


def flipped(by_network):
    """The metrics whose verdict band differs between the networks that give it one."""
    return [metric for metric, words in _words(by_network).items()
            if None not in words.values() and len(set(words.values())) > 1]


def worst(by_network):
    """(ratio, metric, network): the ticket's largest ratio to dense over the networks and metrics of one checkpoint,
    the bound a reader can rely on whichever network they trust; None where no ratio exists."""
    found = [(r, metric, n) for n, metrics in by_network.items() for metric, r in metrics.items() if r is not None]
    return max(found) if found else None


def agreement(by_network):
    """The sentence saying whether each metric's verdict is the same under every network, from {network: {metric:
    ratio over seeds}} of one checkpoint."""
    names = sorted(by_network)
    if len(names) < 2:
        return f"not checked: paired seeds under {' and '.join(names) or 'no network'} only"
    same, flips, none = [], [], []
    for metric, words in _words(by_network).items():
        label = METRICS[metric]
        if None in words.values():
            none.append(f"{label} under {' and '.join(n for n in names if words[n] is None)}")
            continue
        text = ", ".join(f"{words[n]} under {n}" for n in names)
        (flips if metric in flipped(by_network) else same).append(f"{label} ({text})")
    lines = []  # a flip first: it is what the check is for
    if flips:
        lines.append(f"NOT the same on {'; '.join(flips)}: a verdict that flips between networks is not a verdict")
    if same:
        lines.append(f"the same under {' and '.join(names)} on {'; '.join(same)}")
    if none:
        lines.append(f"without a ratio on {'; '.join(none)} (the dense arm's mean is at or below the floor)")
    return "; ".join(lines)


def lines(ticket_name, dense_name, steps, ticket, dense):
    """The markdown of the comparison: per network and checkpoint, each metric's ticket / dense ratio per seed and
    over seeds, each arm's mean, the agreement sentence per checkpoint and the noise of the latent draws."""
    networks = sorted({n for _, n in ticket} & {n for _, n in dense})
    seeds = sorted({s for s, _ in ticket} & {s for s, _ in dense})
    draws = sorted({len(c["draws"]) for arm in (ticket, dense) for r in arm.values()
                    for c in r["checkpoints"].values()})
    draws_text = f"{draws[0]}" if len(draws) == 1 else f"{draws[0]} to {draws[-1]}"
    out = [f"## DCGAN, {steps} steps: {ticket_name} (k = 0.1) against {dense_name}, at the last and the best "
           f"checkpoint, under {len(networks)} evaluation networks", "",
           "Written by `python benchmarks/second_network.py report` from the JSONs `second_network.py run` keeps in "
           "docs/adversarial-study-data/ (each checkpoint generates 1,501 images per latent draw, `studiogan-slt eval "
           "-sf --seed`, and every network scores those same images, `studiogan-slt digits-fid`; a checkpoint's "
           f"value is its mean over {draws_text} draws). "
           "Ratios are ticket / dense, paired by seed; over seeds the train-split FID's is the mean of the per-seed "
           "ratios, a KID's the ratio of the means; a KID ratio is taken above the network's real-vs-real floor "
           "(below): (ticket - floor) / (dense - floor). "
           f"Seeds: {', '.join(map(str, seeds)) or 'none'} ({len(seeds)} of {TARGET_SEEDS}).", "",
           "| checkpoint | network | metric | ticket (mean) | dense (mean) | ticket / dense per seed | over seeds | "
           "verdict |", "|---|---|---|---|---|---|---|---|"]
    sentences = []
    for checkpoint in CHECKPOINTS:
        for network in networks:
            found = ratios(ticket, dense, network, checkpoint)
            paired = sorted(found["fid_train"][0])
            if not paired:
                continue
            for metric, (per_seed, over) in found.items():
                means = [mean_std([arm[s, network]["checkpoints"][checkpoint][metric] for s in per_seed])[0]
                         for arm in (ticket, dense)]
                steps_text = ", ".join(f"s{s}: {ratio_text(r)}" for s, r in per_seed.items())
                out.append(f"| {checkpoint} | {network} | {METRICS[metric]} | {means[0]:.4g} | {means[1]:.4g} | "
                           f"{steps_text} | {ratio_text(over)} | {verdict(over) or '-'} |")
            sentences.append(_memorisation(ticket, dense, network, checkpoint, paired))
        sentences.append(f"- At the {checkpoint} checkpoint the verdict is "
                         f"{agreement(by_network(ticket, dense, checkpoint))}.")
    sentences.append(_draw_noise(ticket, dense, networks))
    for network in networks:  # each network has its own floors: its numbers compare with each other only
        record = next(r for (_, n), r in sorted(ticket.items()) if n == network)
        if "floors" in record:
            sentences += ["", f"Under the {network} network:", *floor_lines(record["floors"])]
    return out + ["", *sentences]


def _draw_noise(ticket, dense, networks):
    """The sentence of how much one draw of latents moves a checkpoint's train-split FID: the std over its draws,
    averaged over the checkpoints that have several, per arm and network (last checkpoints)."""
    parts = []
    for network in networks:
        for name, arm in (("ticket", ticket), ("dense", dense)):
            stds = [mean_std([d["fid_train"] for d in r["checkpoints"]["last"]["draws"]])[1]
                    for (_, n), r in sorted(arm.items()) if n == network]
            stds = [s for s in stds if s is not None]
            if stds:
                parts.append(f"{name} under {network} {mean_std(stds)[0]:.2f} ({len(stds)} checkpoints)")
    if not parts:
        return "- Each checkpoint was scored from one draw of latents: the draws' own noise is not measured."
    return ("- One draw of latents moves a last checkpoint's train-split FID by (std over its draws, mean over "
            f"checkpoints): {'; '.join(parts)}.")


def _memorisation(ticket, dense, network, checkpoint, seeds):
    """The sentence of each arm's memorisation ratio (mean over `seeds`), flagged below MEMORISATION_FLAG."""
    parts = []
    for name, arm in (("ticket", ticket), ("dense", dense)):
        value = mean_std([arm[s, network]["checkpoints"][checkpoint]["memorisation"] for s in seeds])[0]
        flag = (f", below {MEMORISATION_FLAG}: closer to the training digits than unseen digits are, so its "
                "train-split metrics flatter it") if value < MEMORISATION_FLAG else ""
        parts.append(f"{name} {value:.2f}{flag}")
    return f"- Memorisation ratio at the {checkpoint} checkpoint under {network}: {'; '.join(parts)}."


def pixel_pairs(ticket, dense):
    """(the seeds both arms have a pixel check of, {"ticket": [pixel_w1 per seed], "dense": [...]})."""
    seeds = sorted(set(ticket) & set(dense))
    return seeds, {name: [arm[s]["pixel_w1"] for s in seeds] for name, arm in (("ticket", ticket), ("dense", dense))}


def pixel_lines(ticket, dense):
    """The network-free check: each arm's pixel-value distance to the train split ({seed: second_network.pixel_check
    record}), paired by seed, beside the same distance for real digits."""
    seeds, arms = pixel_pairs(ticket, dense)
    if not seeds:
        return []
    intensity = {name: mean_std([arm[s]["mean_intensity"] for s in seeds])[0]
                 for name, arm in (("ticket", ticket), ("dense", dense))}
    floors = ticket[seeds[0]]["floors"]
    per_seed = ", ".join(f"s{s}: {t / d:.2f}" for s, t, d in zip(seeds, arms["ticket"], arms["dense"]))
    return ["", "No network at all: the distribution of pixel values (gray, 0-1) of each last checkpoint's first draw "
            "against the train split's, Wasserstein-1 (`second_network.pixel_check`; "
            f"seeds {', '.join(map(str, seeds))}):", "",
            f"- ticket {fmt_mean_std(arms['ticket'], '.4f')}, dense {fmt_mean_std(arms['dense'], '.4f')} (mean ± std "
            f"over seeds); ticket / dense per seed {per_seed}. Real digits: the valid split {floors['valid']:.4f}, "
            f"halves of the train split {fmt_mean_std(floors['train_halves'], '.4f')}.",
            f"- Mean pixel value: ticket {intensity['ticket']:.4f}, dense {intensity['dense']:.4f}, the train split "
            f"{ticket[seeds[0]]['train_mean_intensity']:.4f}."]
