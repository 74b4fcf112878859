"""The built-in digits as a first run needs them: a DIGITS config without -data runs on the cached data set, and
the flags a user left out are filled in.

StudioGAN's own defaults do not fit a short CPU run on data it does not know: -metrics fid needs the Inception
weights (a download), 8 data-loader workers crowd 2 cores, and a checkpoint is saved only every 2,000 steps, so a
run of fewer steps ends with none. A flag the user gives always wins.
"""
import math

from studiogan_slt import strict_yaml
from studiogan_slt.data import digits
from studiogan_slt.studiogan.host.argv import flag_value

# checkpoints over a run (at most; a multiple of print_freq apart); the digits metric, when the config sets it,
# scores each
SAVES = 4
STUDIOGAN_TOTAL_STEPS = 100000  # config.py's default OPTIMIZATION.total_steps
STUDIOGAN_PRINT_FREQ = 100  # main.py's default --print_freq


def _given(argv, *names):
    return any(a in names or a.startswith(tuple(n + "=" for n in names)) for a in argv)


def _read(cfg_file):
    with open(cfg_file) as f:
        return strict_yaml.load(f) or {}


def fill_in(argv, cfg_file, mode, log=print):
    """argv with the DIGITS defaults added (the cached data set made on first use); unchanged for other data and
    when -data is given."""
    data = _read(cfg_file)
    if (data.get("DATA") or {}).get("name") != "DIGITS":
        return argv
    if _given(argv, "-data", "--data_dir"):
        return argv  # a StudioGAN-style command: StudioGAN's defaults, as for any data set
    added = ["-data", str(digits.cached(log))]
    if mode == "train":
        steps = int((data.get("OPTIMIZATION") or {}).get("total_steps", STUDIOGAN_TOTAL_STEPS))
        # StudioGAN refuses a save_freq that its print_freq does not divide (config.py, for wandb logging).
        given = flag_value(argv, "--print_freq")
        print_freq = int(given) if given and given.isdigit() and int(given) > 0 else STUDIOGAN_PRINT_FREQ
        save_freq = math.ceil(steps / SAVES / print_freq) * print_freq
        for names, value in ((("-metrics", "--eval_metrics"), "none"), (("--num_workers",), "1"),
                             (("--save_freq",), str(save_freq))):
            if not _given(argv, *names):
                added += [names[0], value]
    if added:
        log(f"DIGITS defaults for the flags not given: {' '.join(added)}")
    return [*argv, *added]
