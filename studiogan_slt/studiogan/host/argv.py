"""StudioGAN's command line as the plugin reads it: the value of one of its options."""
import itertools


def flag_value(argv, *names):
    """Value of the last occurrence of an argparse-style option (`-cfg X`, `--cfg_file=X`) in argv, or None."""
    value = None
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                value = argv[i + 1]
            elif arg.startswith(name + "="):
                value = arg[len(name) + 1:]
    return value


def flag_values(argv, *names):
    """The values after the last occurrence of a nargs='+' option (`-metrics fid is`), or None."""
    values = None
    for i, arg in enumerate(argv):
        if arg in names:
            values = list(itertools.takewhile(lambda a: not a.startswith("-"), argv[i + 1:]))
    return values
