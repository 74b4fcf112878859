"""SIGKILLs at chosen and at random moments of a running export or training run, for test_kill.py and test_resume.py.

Called inside driver.py ("call" jobs) once StudioGAN is imported there: every victim is a fork of the driver, so it
starts in milliseconds with everything imported, and runs the real code (the CLI's `export` command, launch.run,
i.e. `studiogan-slt train`) until it is killed. A victim writes one byte to a pipe whenever it reaches an
instrumented point (an encoded ticket about to be written; a torch.save about to start), so half of the kills are
aimed at the write window and the other half fall at random.
"""
import glob
import hashlib
import itertools
import json
import os
import random
import shutil
import signal
import time
import traceback

import torch

TEMP = ".tmp"  # studiogan_slt.atomic's temporary files end so


def _fork(victim, *args):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        code = 0
        try:
            victim(write, *args)
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(write)
    return pid, read


def _kill_after(pid, pipe, points, delay):
    """SIGKILL `pid` `delay` seconds after it reached `points` instrumented points; True if the kill ended it."""
    for _ in range(points):
        if not os.read(pipe, 1):
            break  # the victim ended on its own
    time.sleep(delay)
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(pipe)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest() if os.path.exists(path) else None


def _temp_files(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(TEMP))


def _export(ckpt_dir, target, tier):
    from click.testing import CliRunner

    from studiogan_slt.cli import main

    result = CliRunner().invoke(main, ["export", "-ckpt", ckpt_dir, "-o", target, "--tier", tier])
    assert result.exit_code == 0, result.output


def _export_victim(pipe, ckpt_dir, target, tiers, first):
    from studiogan_slt.ticket import save_load as ticket

    encode = ticket.encode

    def encoded_then_signal(*args, **kwargs):
        data = encode(*args, **kwargs)
        os.write(pipe, b".")
        return data

    ticket.encode = encoded_then_signal
    for i in itertools.count(first):
        _export(ckpt_dir, target, tiers[i % 2])


def export_kills(ckpt_glob, target, snapshots, kills=20, seed=0):
    """Export tickets over `target` in a loop (two tiers, so that consecutive files differ) and SIGKILL the loop
    `kills` times; after each kill, the target is copied to `snapshots` for the test to load."""
    (ckpt_dir,) = glob.glob(ckpt_glob)
    tiers = ("values", "auto")
    versions = {}
    for tier in tiers:
        _export(ckpt_dir, target, tier)
        versions[tier] = _sha(target)
    os.makedirs(snapshots, exist_ok=True)
    rng, outcomes = random.Random(seed), []
    for i in range(kills):
        aimed = i % 2 == 0
        first = 1 if _sha(target) == versions[tiers[0]] else 0  # the victim writes the other version first
        pid, pipe = _fork(_export_victim, ckpt_dir, target, tiers, first)
        killed = _kill_after(pid, pipe, 1 if aimed else 0, rng.uniform(0, 0.003) if aimed else rng.uniform(0, 1.5))
        folder = os.path.dirname(target)
        snapshot = os.path.join(snapshots, f"kill{i:02d}.slt")
        shutil.copyfile(target, snapshot)
        outcomes.append({"killed": killed, "aimed": aimed, "sha": _sha(target), "snapshot": snapshot,
                         "temp_files": _temp_files(folder)})
        for name in _temp_files(folder):  # what a kill mid-write leaves: never under the target's name
            os.remove(os.path.join(folder, name))
    return {"versions": versions, "kills": outcomes}


def _train_victim(pipe, argv):
    from studiogan_slt.studiogan import launch

    save = torch.save

    def signal_then_save(*args, **kwargs):
        os.write(pipe, b".")
        return save(*args, **kwargs)

    torch.save = signal_then_save
    launch.run(argv, mode="train")


def _folder_state(folder):
    """Which files a killed run left: does every checkpoint file load, and the steps of the complete sets."""
    names = sorted(os.listdir(folder))
    loadable = {}
    for name in names:
        if name.startswith("model="):
            try:
                torch.load(os.path.join(folder, name), map_location="cpu", weights_only=False)
                loadable[name] = True
            except Exception:  # any failure to load is what the test reports
                loadable[name] = False
    steps = {}
    for name in loadable:
        model, step = name[len("model="):].split("-current-weights-step=")
        steps.setdefault(int(step[:-len(".pth")]), set()).add(model)
    complete = sorted(step for step, models in steps.items() if {"G", "D", "G_ema", "RESUME"} <= models)
    return {"files": names, "loadable": loadable, "complete_steps": complete}


def train_kills(fresh_argv, save_dir, kills=20, seed=0):
    """Start a training run and SIGKILL it `kills` times, resuming it from its checkpoint folder after each kill;
    then let the last resume finish. Returns what every kill left behind."""
    rng, outcomes = random.Random(seed), []
    for i in range(kills + 1):
        found = glob.glob(os.path.join(save_dir, "checkpoints", "*"))
        argv = fresh_argv + (["-ckpt", found[0]] if found and os.listdir(found[0]) else [])
        pid, pipe = _fork(_train_victim, argv)
        if i == kills:
            _, status = os.waitpid(pid, 0)
            os.close(pipe)
            return {"kills": outcomes, "final_exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
                    "ckpt_dir": found[0]}
        aimed = i % 2 == 0
        # A save is 4 files. The first kill comes after the first checkpoint is complete: before it there is
        # nothing to resume from, and the next start would be a fresh run. Counted in saves rather than seconds,
        # so that the run gets through at most 2 checkpoints per kill however fast the machine is.
        killed = _kill_after(pid, pipe, rng.randint(5 if i == 0 else 1, 8),
                             rng.uniform(0, 0.003) if aimed else rng.uniform(0, 0.05))
        found = glob.glob(os.path.join(save_dir, "checkpoints", "*"))
        outcomes.append({"killed": killed, "aimed": aimed, **(_folder_state(found[0]) if found else {})})


def killed_at_random(argv, after, before, seed):
    """Run training in a fork that SIGKILLs itself at a random moment between its complete checkpoint of step
    `after` and the mark of step `before`, so that the run always resumes from `after`. The moment is a fraction,
    drawn from `seed`, of the time the run took from its previous mark to that of `after` (as much training and
    saving as the window holds), so that it falls anywhere in the window whatever the machine's speed; a window that
    turns out shorter ends at the mark of `before`, about to be written. The kill may fall inside a step or inside a
    save. Returns whether the kill ended it, the seed, the fraction and delay drawn, and whether the mark of
    `before` came first (to report)."""
    fraction = random.Random(seed).random()
    marks, chosen = [], {"seed": seed, "fraction": fraction, "delay": None, "cut_short": False}
    reader, writer = os.pipe()  # the victim tells what it chose before it dies

    def die(*_):
        os.write(writer, json.dumps(chosen).encode())
        os.kill(os.getpid(), signal.SIGKILL)

    def victim(pipe, argv):
        from studiogan_slt.studiogan import run_files

        commit = run_files.commit

        def commit_then_arm(ckpt_dir, when, at, state):
            if at == before:
                chosen["cut_short"] = True
                die()
            commit(ckpt_dir, when, at, state)
            marks.append(time.monotonic())
            if at == after:
                assert len(marks) > 1, f"no checkpoint before step {after} to time the window by"
                chosen["delay"] = fraction * (marks[-1] - marks[-2])
                signal.signal(signal.SIGALRM, die)
                signal.setitimer(signal.ITIMER_REAL, max(chosen["delay"], 1e-6))

        run_files.commit = commit_then_arm
        _train_victim(pipe, argv)

    pid, pipe = _fork(victim, argv)
    os.close(writer)
    _, status = os.waitpid(pid, 0)
    os.close(pipe)
    with os.fdopen(reader) as told:
        said = told.read()
    return {"killed": os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL,
            **(json.loads(said) if said else chosen)}
