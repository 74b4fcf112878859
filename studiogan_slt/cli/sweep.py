"""`studiogan-slt sweep`: a grid of `train` runs over k and seeds, with dense references, then compare and plot."""
import contextlib
import os
import shlex
import signal
import sys
from pathlib import Path

import click

from studiogan_slt.cli import options
from studiogan_slt.errors import Interrupted, SLTError, Terminated

# The sweep sets these for every point; the same flag among the pass-through ones would contradict it.
_OWN_FLAGS = ("-cfg", "--cfg_file", "-data", "--data_dir", "-save", "--save_dir", "-ckpt", "--ckpt_dir", "--seed",
              "-t", "--train")


def _take_values(args, flag, kind):
    """Remove `flag V1 V2 ...` from args (click options take one value each); returns (values, the other args)."""
    values, rest, i = [], [], 0
    while i < len(args):
        if args[i] != flag:
            rest.append(args[i])
            i += 1
            continue
        i += 1
        while i < len(args):
            try:
                values.append(kind(args[i]))
            except ValueError:
                break
            i += 1
    return values, rest


@click.command(context_settings=options.PASS_THROUGH)
@click.option("-cfg", "cfg_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The StudioGAN YAML of the search (with its SLT: section).")
@click.option("-data", "data_dir", required=True, type=click.Path(), help="StudioGAN's -data of every point.")
@click.option("-save", "save_dir", required=True, type=click.Path(file_okay=False),
              help="One folder per point in it, and the figure, CSV and comparison.")
@click.option("--dense", is_flag=True, help="Also the dense reference of each seed (see --dense-cfg).")
@click.option("--dense-cfg", type=click.Path(exists=True, dir_okay=False), default=None,
              help="YAML of the dense points, as written (default: -cfg without SLT, or with train_mode "
                   "dense_moment_matching for the moment-matching search).")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Points at a time.")
@click.option("--launcher", type=click.Choice(["local", "slurm", "submitit-local"]), default="local",
              show_default=True, help="local: subprocesses here; slurm: one submitit job per point; submitit-local: "
                                      "submitit's local executor (the SLURM path without a cluster).")
@click.option("--partition", default=None, help="SLURM partition.")
@click.option("--time", "minutes", type=click.IntRange(min=1), default=240, show_default=True,
              help="SLURM time limit of a point, in minutes.")
@click.option("--gpus-per-point", type=click.IntRange(min=0), default=1, show_default=True,
              help="SLURM GPUs of a point; add -DDP to use several.")
@click.option("--cpus-per-point", type=click.IntRange(min=1), default=8, show_default=True, help="SLURM CPUs.")
@click.option("--eval-flags", default=None,
              help="Evaluate each point's final (or best) checkpoint with these StudioGAN flags, e.g. "
                   "\"-metrics fid -ref valid\" (one quoted string).")
@click.option("--digits-fid", is_flag=True, help="DIGITS: `digits-fid` of 296 samples of each point "
                                                 "(implies an eval with -sf); the figure then plots digits_FID.")
@click.option("--digits-net", type=click.Path(dir_okay=False), default=None,
              help="Evaluation network of --digits-fid (default: SAVE/digits_eval.pt, trained there on first use).")
@click.option("--metric", default=None, help="Metric of the figure (default: digits_FID with --digits-fid, else FID).")
@click.option("--log-y", is_flag=True, help="Logarithmic y axis of the figure.")
@click.option("--title", default=None, help="Title of the figure.")
@options.pass_through  # --nproc and --studiogan-root as for train, then the flags of every train
def sweep(cfg_file, data_dir, save_dir, dense, dense_cfg, jobs, launcher, partition, minutes, gpus_per_point,
          cpus_per_point, eval_flags, digits_fid, digits_net, metric, log_y, title, nproc, studiogan_root,
          studiogan_args):
    """Run a grid of `train` runs: studiogan-slt sweep -cfg CFG -data DIR -save DIR --k 0.5 0.3 0.1 0.05
    [--seeds 0 1 2] [--dense] [StudioGAN flags for train, e.g. -metrics fid --num_workers 1].

    --k K1 K2 ... (fractions KEPT) and --seeds S1 S2 ... (default 0) take several values. Each point is an
    ordinary `train` with its own YAML and run name in SAVE/<point>/, then `eval` (--eval-flags, --digits-fid) and
    `export` of its ticket. Finished points are skipped, so a sweep that was stopped resumes when run again; at
    the end `compare` and `plot` run over every finished point in SAVE.
    """
    # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
    from studiogan_slt.sweep import launchers
    from studiogan_slt.sweep.plan import plan
    from studiogan_slt.sweep.point import PointJob
    from studiogan_slt.sweep.run import run_points, summarize

    ks, args = _take_values(list(studiogan_args), "--k", float)
    seeds, args = _take_values(args, "--seeds", int)
    if "--k" in studiogan_args and not ks or "--seeds" in studiogan_args and not seeds:
        raise SLTError("--k and --seeds need numbers after them, e.g. --k 0.5 0.1 --seeds 0 1")
    clash = [a for a in args if a.split("=")[0] in _OWN_FLAGS]
    if clash:
        raise SLTError(f"{clash[0]}: the sweep sets this for every point (use -cfg/-data/-save/--seeds of sweep)")
    if dense_cfg and not dense:
        raise SLTError("--dense-cfg is the YAML of the dense points: add --dense")
    if digits_net and not digits_fid:
        raise SLTError("--digits-net is the network of --digits-fid: add --digits-fid")
    points = plan(cfg_file, ks, seeds or [0], dense=dense, dense_cfg=dense_cfg)
    save = Path(save_dir).resolve()
    save.mkdir(parents=True, exist_ok=True)
    lock = _lock(save)  # noqa: F841 (unlocked when the process ends, however it ends)
    env = {}
    if launcher == "local" and jobs > 1 and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // jobs))  # the lanes share the cores
    net = None
    if digits_fid:
        # lazy, as every command's work: `--help` imports this module and stays free of torch (cli/__init__.py)
        from studiogan_slt.metrics.digits_eval import load_eval_net

        net = Path(digits_net).resolve() if digits_net else save / "digits_eval.pt"
        load_eval_net(net, log=click.echo)  # trained once here, not by every point at the same time
    plugin = ("--studiogan-root", str(Path(studiogan_root).resolve())) if studiogan_root else ()
    point_jobs = [PointJob(point=p, folder=str(save / p.name), data=str(Path(data_dir).resolve()),
                           train_flags=tuple(args), eval_flags=None if eval_flags is None and not digits_fid
                           else tuple(shlex.split(eval_flags or "")), digits_net=str(net) if net else None,
                           plugin_flags=plugin, nproc=nproc, env=env) for p in points]
    resources = launchers.Resources(partition=partition, minutes=minutes, gpus=gpus_per_point, cpus=cpus_per_point)
    launch = launchers.make(launcher, save / "submitit", resources)
    click.echo(f"sweep of {len(points)} points into {save} ({launcher}, {jobs} at a time)")
    with _stopped_by_signals():
        failed = run_points(point_jobs, jobs, launch, click.echo)
    summarize(save, metric or ("digits_FID" if digits_fid else "FID"), click.echo, log_y=log_y, title=title)
    if failed:
        raise SLTError(f"{len(failed)} of {len(points)} points failed ({', '.join(failed)}); see their point.log, "
                       "then run the same command again to retry them")


def _lock(save):
    """SAVE/.sweep.lock, locked for as long as the returned file stays open: a second sweep into the same -save
    would train every point a second time."""
    import fcntl

    lock = open(save / ".sweep.lock", "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        holder = lock.read().strip() or "?"
        lock.close()
        raise SLTError(f"-save {save}: another sweep is running into it (pid {holder}); wait for it to end, or use "
                       "another -save") from None
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    return lock


@contextlib.contextmanager
def _stopped_by_signals():
    """SIGTERM (SLURM's preemption, `kill`) stops the sweep as Ctrl-C does: the running steps are handed the
    signal and waited for, and the sweep exits 130 or 143 with the command that resumes it."""
    def terminate(signum, frame):
        raise Terminated("terminated")

    previous = signal.signal(signal.SIGTERM, terminate)
    resume = shlex.join(["studiogan-slt", *sys.argv[1:]])
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted; finished points and the checkpoints of the others are kept; resume with: "
                          f"{resume}") from None
    except Terminated:
        raise Terminated(f"terminated (SIGTERM); finished points and the checkpoints of the others are kept; resume "
                         f"with: {resume}") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
