"""Every option of convert() (and so of the SLT: section): names, defaults, allowed values, and the k check."""
import math
import numbers

from studiogan_slt.errors import shown
from studiogan_slt.supermask import inits

# The largest seed and lever step count: what a signed 64-bit integer holds, the type of every reader of a checkpoint
# or ticket header outside Python (numpy, torch, C); a larger one is a typo, not a run.
MAX_INT = 2 ** 63 - 1
DEFAULTS = {
    "scope": "layer",
    "mask_bias": True,
    "types": None,
    "include": None,
    "exclude": None,
    "first_last_dense": False,
    "score_init": "kaiming_uniform",
    "score_bound": None,
    "bias_score_bound": None,
    "weight_init": "keep",
    "scaled": False,
    "bias_init": "keep",
    "rescale": False,
    "seed": 0,
    "learn_bn": False,
    "rerandomize": None,
    "k_schedule": None,
}
CHOICES = {
    "scope": ("layer", "global"),
    "score_init": inits.SCORE_INITS,
    "weight_init": inits.WEIGHT_INITS,
    "bias_init": inits.BIAS_INITS,
}
_BOOLS = ("mask_bias", "first_last_dense", "scaled", "rescale", "learn_bn")
# The levers of supermask/search: {key: (check, what it must be)}
_LEVERS = {
    "rerandomize": {"every": (lambda v: is_int(v) and v >= 1, "an integer >= 1 (steps between redraws)"),
                    "fraction": (lambda v: is_number(v) and 0 < v <= 1, "a number in (0, 1] (the chance a pruned "
                                                                            "weight is redrawn)")},
    "k_schedule": {"start": (lambda v: is_number(v) and 0 < v <= 1, "a number in (0, 1], the kept fraction at step 0"),
                   "steps": (lambda v: is_int(v) and 1 <= v <= MAX_INT, f"an integer in [1, {MAX_INT}] (steps to "
                                                                            "reach k)")},
}


def is_int(v):
    """An integer, not a bool (YAML's true is an int to Python)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_number(v):
    """A finite real number, not a bool (YAML's .nan and .inf are floats; an int of any size is finite)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and (is_int(v) or math.isfinite(v))


def _check_lever(name, value):
    """The lever's settings as a plain dict, or ValueError naming what is wrong."""
    fields = _LEVERS[name]
    example = ", ".join(f"{key}: ..." for key in fields)
    if not isinstance(value, dict) or set(value) != set(fields):
        raise ValueError(f"{name} must be null or a mapping {{{example}}}, got {shown(value)}")
    for key, (ok, what) in fields.items():
        if not ok(value[key]):
            raise ValueError(f"{name}.{key} must be {what}, got {shown(value[key])}")
    return {key: (int(v) if is_int(v) else float(v)) for key, v in value.items()}


def k_problem(k):
    """None when k is a valid fraction of weights kept, else what is wrong with it."""
    if not is_number(k) or not 0.0 < k <= 1.0:
        return f"k must be a number in (0, 1] (the fraction of weights KEPT), got {shown(k)}"
    return None


def check_k(k):
    problem = k_problem(k)
    if problem:
        raise ValueError(problem)


def validate(k, options):
    """convert()'s full options (defaults filled in, k as float); ValueError naming the first bad one."""
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r}; allowed: {', '.join(DEFAULTS)}")
    check_k(k)
    opts = {**DEFAULTS, **options}
    for key, allowed in CHOICES.items():
        if opts[key] not in allowed:
            raise ValueError(f"{key} must be one of {', '.join(allowed)}; got {shown(opts[key])}")
    for key in _BOOLS:
        if not isinstance(opts[key], bool):
            raise ValueError(f"{key} must be true or false, got {shown(opts[key])}")
    for key in ("include", "exclude", "types"):
        if isinstance(opts[key], (str, type)):
            opts[key] = [opts[key]]
        if opts[key] is not None and (not isinstance(opts[key], (list, tuple))
                                      or not all(isinstance(v, (str, type)) for v in opts[key])):
            raise ValueError(f"{key} must be a list of {'class names' if key == 'types' else 'regexes'}")
    for key in ("score_bound", "bias_score_bound"):
        if opts[key] is not None and (not is_number(opts[key]) or opts[key] <= 0):
            raise ValueError(f"{key} must be a positive number or None, got {shown(opts[key])}")
    if not is_int(opts["seed"]) or not 0 <= opts["seed"] <= MAX_INT:
        raise ValueError(f"seed must be an integer in [0, {MAX_INT}], got {shown(opts['seed'])}")
    for name in _LEVERS:
        if opts[name] is not None:
            opts[name] = _check_lever(name, opts[name])
    if opts["rerandomize"] and opts["weight_init"] == "keep":
        raise ValueError("rerandomize needs a seeded weight_init (signed_kaiming_constant or kaiming_normal): weights "
                         "from the host's own init cannot be redrawn, nor regenerated from a ticket")
    if opts["k_schedule"] and opts["k_schedule"]["start"] < k:
        raise ValueError(f"k_schedule.start must be >= k={k} (the kept fraction decays from start to k), "
                         f"got {shown(opts['k_schedule']['start'])}")
    opts["k"] = float(k)
    return opts
