"""test_train.py's StudioGAN jobs and the driver process (driver.py) that runs each tier's list of them.

The fast tier trains DCGAN once, evaluates it and checks a refusal; the other backbones, resume, the dense run,
the best checkpoint and DDP train in the slow tier's second driver process, in the same work folder.
"""
from tests.studiogan import driving
from tests.studiogan.train_setup import BACKBONES, QUICK, _cfg

FAST_BACKBONES = {"DCGAN"}
# StudioGAN fixes StyleGAN2's widths at 512 channels: its run alone costs about as much as the other backbones'
SLOW_BACKBONES = {"StyleGAN2"}


def train_job(work, digits, name, cfg, *extra):
    save = str(work / name / "save")
    return {"name": name, "kind": "train", "argv": ["-cfg", cfg, "-save", save, "-data", str(digits), "-metrics",
                                                    "none", *QUICK, *extra], "snapshot_dir": str(work / name)}


def drive(work, jobs, studiogan_root, prefix=""):
    """Run `jobs` in one driver process; returns the driver's results, the work folder (one subfolder per job) and
    the driver's output."""
    results, output = driving.drive(work, jobs, studiogan_root, timeout=900,
                                    env={"TORCH_HOME": str(work / "torch_home")}, prefix=prefix)
    return {"results": results, "dir": work, "driver_output": output}


def backbone_cfgs(work):
    """The folder of the YAMLs under `work` and one YAML per backbone written there."""
    cfgs = work / "cfgs"
    cfgs.mkdir()
    return cfgs, {name: _cfg(cfgs, name, sections) for name, sections in BACKBONES.items()}


def dcgan_run(work):
    return str(work / "DCGAN" / "save" / "checkpoints" / "*")  # one folder, named after a timestamp


def fast_jobs(work, cfgs, cfg, digits, small_valid, studiogan_root):
    jobs = [train_job(work, digits, name, cfg[name]) for name in FAST_BACKBONES]
    return jobs + [
        {"name": "inception", "kind": "inception", "studiogan_root": str(studiogan_root)},
        {"name": "eval", "kind": "cli",
         "args": ["eval", "-cfg", cfg["DCGAN"], "-data", str(small_valid),
                  "-save", str(work / "eval"), "-ckpt", "glob:" + dcgan_run(work), "-metrics", "fid", "is", "prdc",
                  "-ref", "valid", "-v", "-sf", "-sf_num", "12", "--num_workers", "1", "--seed", "0"]},
        # class-conditional with 6 images per batch: StudioGAN's canvas would fail at the first save
        {"name": "canvas", "kind": "cli",
         "args": ["train", "-cfg", _cfg(cfgs, "canvas", dict(BACKBONES["SNGAN"], OPTIMIZATION={"batch_size": 6})),
                  "-save", str(work / "canvas"), "-data", str(digits), "-metrics", "none", *QUICK]},
    ]


def more_jobs(work, cfgs, cfg, digits, small_valid, studiogan_root):
    """The slow tier's jobs, after the fast ones (resume starts from the DCGAN run's checkpoint)."""

    def train(name, cfg, *extra):
        return train_job(work, digits, name, cfg, *extra)

    jobs = [train(name, cfg[name]) for name in BACKBONES if name not in SLOW_BACKBONES | FAST_BACKBONES]
    resume_sections = dict(BACKBONES["DCGAN"], OPTIMIZATION={**BACKBONES["DCGAN"]["OPTIMIZATION"], "total_steps": 2})
    dense = {k: v for k, v in BACKBONES["DCGAN"].items() if k != "SLT"}
    return jobs + [
        # a resumed run saves into its -ckpt folder and deletes the older files there (misc.save_model), so it
        # resumes from a copy and the DCGAN checkpoints stay for the other tests
        {"name": "copy", "kind": "copy", "src": dcgan_run(work) + "/*.pth", "dst": str(work / "resume_from")},
        train("resume", _cfg(cfgs, "DCGAN-resume", resume_sections), "-ckpt", str(work / "resume_from")),
        train("dense", _cfg(cfgs, "DCGAN-dense", dense)),
        {"name": "inception", "kind": "inception", "studiogan_root": str(studiogan_root)},
        # with a metric StudioGAN evaluates at every save and keeps the best model, which `export -best` picks
        train("best", cfg["DCGAN"], "-data", str(small_valid), "-metrics", "fid", "-ref", "valid"),
        {"name": "export-best", "kind": "cli",
         "args": ["export", "-ckpt", "glob:" + str(work / "best" / "save" / "checkpoints" / "*"), "-best",
                  "-o", str(work / "best.slt")]},
        {"name": "ddp", "kind": "cli",
         "args": ["train", "--nproc", "2", "-cfg", cfg["DCGAN"], "-DDP", "-save", str(work / "ddp"),
                  "-data", str(digits), "-metrics", "none", *QUICK]},
    ]
