"""Every option of convert() (and so of the SLT: section): names, defaults, allowed values, and the k check."""
import numbers

from studiogan_slt.supermask import inits

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
}
CHOICES = {
    "scope": ("layer", "global"),
    "score_init": inits.SCORE_INITS,
    "weight_init": inits.WEIGHT_INITS,
    "bias_init": inits.BIAS_INITS,
}
_BOOLS = ("mask_bias", "first_last_dense", "scaled", "rescale")


def k_problem(k):
    """None when k is a valid fraction of weights kept, else what is wrong with it."""
    if isinstance(k, bool) or not isinstance(k, numbers.Real) or not 0.0 < k <= 1.0:
        return f"k must be a number in (0, 1] (the fraction of weights KEPT), got {k!r}"
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
            raise ValueError(f"{key} must be one of {', '.join(allowed)}; got {opts[key]!r}")
    for key in _BOOLS:
        if not isinstance(opts[key], bool):
            raise ValueError(f"{key} must be true or false, got {opts[key]!r}")
    for key in ("include", "exclude", "types"):
        if isinstance(opts[key], (str, type)):
            opts[key] = [opts[key]]
        if opts[key] is not None and (not isinstance(opts[key], (list, tuple))
                                      or not all(isinstance(v, (str, type)) for v in opts[key])):
            raise ValueError(f"{key} must be a list of {'class names' if key == 'types' else 'regexes'}")
    for key in ("score_bound", "bias_score_bound"):
        if opts[key] is not None and (not isinstance(opts[key], numbers.Real) or opts[key] <= 0):
            raise ValueError(f"{key} must be a positive number or None, got {opts[key]!r}")
    if isinstance(opts["seed"], bool) or not isinstance(opts["seed"], numbers.Integral):
        raise ValueError(f"seed must be an integer, got {opts['seed']!r}")
    opts["k"] = float(k)
    return opts
