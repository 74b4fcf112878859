"""Small fake StudioGAN -save folders for the reporting tests, whose logs carry the lines StudioGAN and the plugin
really write, in their order (StudioGAN 947b35e):
  utils/log.py make_logger            `[INFO] YYYY-mm-dd HH:MM:SS > message`, multi-line messages unindented
  loader.py load_worker               `Run name : ...`, `cfgs.<SECTION> =` + json.dumps(indent=2) for DATA, MODEL, LOSS,
                                      OPTIMIZATION, PRE, AUG, RUN, STYLEGAN (+ the plugin's SLT), dataset lines,
                                      `Start training!`, `End of training!`, a row of 80 dashes before each final
                                      evaluation of the best model
  worker.py LOG_FORMAT, evaluate      step lines every print_freq; at every save_freq: evaluation block, saving
  studiogan hooks.convert_models      `SLT ticket of G (k=K):` + studiogan_slt.report's table of the converted G
A real log of a tiny run is parsed in tests/studiogan/test_real_run_log.py.
"""
import json
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

PRDC = ("Improved Precision", "Improved Recall", "Density", "Coverage")
NOT_SET = "N/A"


class _Log:
    def __init__(self, start):
        self.time, self.lines = start, []

    def info(self, message, seconds=1):
        self.time += timedelta(seconds=seconds)
        self.lines.append(f"[INFO] {self.time:%Y-%m-%d %H:%M:%S} > {message}")


@lru_cache(maxsize=None)
def ticket_report(k):
    """The plugin's report of a converted tiny generator at k, as hooks.convert_models logs it: (text, kept, total)."""
    from studiogan_slt import convert, report
    from tests.ticket.tiny_generator import tiny_generator

    r = report(convert(tiny_generator(), k, bias_init="uniform"))
    return f"SLT ticket of G (k={k}):\n{r}", r.totals["kept"], r.totals["total"]


def _sections(dataset, img_size, backbone, total_steps, g_lr, cfg_file, seed, metrics, eval_backbone, ref, slt,
              post_resizer):
    sections = {"DATA": {"name": dataset, "img_size": img_size, "num_classes": 10, "img_channels": 3},
                "MODEL": {"backbone": backbone, "g_cond_mtd": "W/O", "z_prior": "gaussian", "z_dim": 128,
                          "apply_g_ema": False, "g_init": "ortho"},
                "LOSS": {"adv_loss": "hinge", "apply_topk": False},
                "OPTIMIZATION": {"type_": "Adam", "batch_size": 64, "acml_steps": 1, "g_lr": g_lr, "d_lr": 0.0002,
                                 "beta1": 0.5, "beta2": 0.999, "total_steps": total_steps, "world_size": 1},
                "PRE": {"apply_rflip": True, "crop_long_edge": True, "resize_size": img_size},
                "AUG": {"apply_diffaug": False, "apply_ada": False},
                "RUN": {"entity": None, "cfg_file": cfg_file, "data_dir": "data", "save_dir": "runs",
                        "ckpt_dir": None, "seed": seed, "eval_metrics": metrics, "post_resizer": post_resizer,
                        "batch_statistics": False, "num_eval": 1, "print_freq": 1, "save_freq": 1,
                        "eval_backbone": eval_backbone, "ref_dataset": ref, "fix_seed": True},
                "STYLEGAN": {"stylegan3_cfg": NOT_SET, "cond_type": ["PD", "SPD", "2C", "D2DCE"]}}
    if slt is not False:
        sections["SLT"] = {"k": NOT_SET, "targets": ["G"], "scope": "layer", "mask_bias": True, "seed": 0,
                           "train_mode": "adversarial", "moments": {}, **(slt or {})}
    return sections


def write_run(save_dir, name, *, slt=None, backbone="deep_conv", cfg_file="configs/CIFAR10/DCGAN-SLT.yaml",
              dataset="CIFAR10", img_size=32, evals=(), final_evals=(), num_real=10000, num_fake=10000,
              with_is=True, total_steps=1000, seed=0, g_lr=0.0002, eval_backbone="InceptionV3_tf", ref="train",
              extra_json=None, dataset_size=50000, post_resizer="legacy"):
    """Write SAVE/logs/<name>.log and return (its path, (kept, total) of G or None).

    slt: None = a dense run through the plugin (its SLT section with k N/A), False = a plain StudioGAN run (no
    SLT section), a dict = SLT values over the defaults; a masked run logs the ticket report of a tiny generator.
    evals / final_evals: (step, FID[, IS, prc, rec, dns, cvg]) tuples, logged during training (with the Best FID
    line) and, after `End of training!`, for the best model. No evals: a run with -metrics none."""
    log = _Log(datetime(2024, 5, 1, 12, 0, 0))
    metrics = ((["is"] if with_is else []) + ["fid", "prdc"]) if evals or final_evals else []
    log.info(f"Run name : {name}", 0)
    sections = _sections(dataset, img_size, backbone, total_steps, g_lr, cfg_file, seed, metrics,
                         eval_backbone, ref, slt, post_resizer)
    for key, value in sections.items():
        log.info(f"cfgs.{key} =", 0)
        log.info(json.dumps(value, indent=2), 0)
    log.info(f"Load {dataset} train dataset for training.")
    log.info(f"Train dataset size: {dataset_size}")
    if metrics:
        log.info(f"Load {dataset} {ref} dataset for evaluation.")
        log.info(f"Eval dataset size: {num_real}")
    log.info("Build a Generative Adversarial Network.")
    kept = None
    slt_values = sections.get("SLT", {})
    if slt_values.get("k", NOT_SET) != NOT_SET and slt_values["train_mode"] != "dense_moment_matching":
        text, *kept = ticket_report(slt_values["k"])
        log.info(text)
    log.info("Start training!")
    best = None
    for i, (step, *values) in enumerate(evals):
        log.info(f"Step: {step:>6} Progress: {step / total_steps:<.1%} Elapsed: 0:00:0{i} Gen_loss: 1.061 "
                 "Dis_loss: 2.753 Cls_loss: N/A Topk:  N/A aa_p: N/A ", 30)
        log.info("Visualize (num_rows x 8) fake image canvans.")
        best = _evaluation(log, name, step, values, num_real, num_fake, with_is, ref, best, training=True)
        log.info(f"Save model to runs/checkpoints/{name}")
    log.info("End of training!")
    for step, *values in final_evals:
        log.info("-" * 80)
        _evaluation(log, name, step, values, num_real, num_fake, with_is, ref, None, training=False)
    path = Path(save_dir) / "logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(log.lines) + "\n")
    if extra_json is not None:
        stats = Path(save_dir) / "statistics" / name
        stats.mkdir(parents=True, exist_ok=True)
        (stats / "digits_fid.json").write_text(json.dumps(extra_json))
    return path, (tuple(kept) if kept else None)


def write_figure_runs(save):
    """The reproduction's run kinds: a moment-matching family (dense x3 seeds, SLT at four k with 3 seeds at 0.1,
    both controls), an adversarial family (dense and SLT k=0.1) and a run without the metric."""
    mm = {"train_mode": "moment_matching"}
    for seed, fid in enumerate((20.0, 22.0, 21.0)):
        write_run(save, f"dmm-s{seed}", slt={"train_mode": "dense_moment_matching"}, seed=seed,
                  extra_json={"fid": fid})
    for k, fid in ((0.5, 24.0), (0.3, 23.0), (0.05, 40.0)):
        write_run(save, f"slt-k{k}", slt={**mm, "k": k}, extra_json={"fid": fid})
    for seed, fid in enumerate((21.5, 23.5, 25.0)):
        write_run(save, f"slt-k0.1-s{seed}", slt={**mm, "k": 0.1}, seed=seed, extra_json={"fid": fid})
    write_run(save, "ctrl-mask", slt={**mm, "k": 0.1}, g_lr=0, extra_json={"fid": 150.0})
    write_run(save, "ctrl-dense", slt={"train_mode": "dense_moment_matching"}, g_lr=0, extra_json={"fid": 300.0})
    write_run(save, "adv-dense", extra_json={"fid": 30.0})
    write_run(save, "adv-slt", slt={"k": 0.1}, extra_json={"fid": 60.0})
    write_run(save, "no-metric", slt={"k": 0.1})


def append_evaluation(path, name, step, values, *, num_real, ref, with_is=False):
    """Append what `studiogan-slt eval -ckpt` writes to the training run's log (utils/ckpt.py reopens it): the
    checkpoint lines and one evaluation block, without a config dump."""
    log = _Log(datetime(2024, 5, 2, 9, 0, 0))
    log.info(f"Generator checkpoint is runs/checkpoints/{name}/model=G-best-weights-step={step}.pth")
    log.info(f"Discriminator checkpoint is runs/checkpoints/{name}/model=D-best-weights-step={step}.pth")
    log.info("-" * 80)
    _evaluation(log, name, step, values, num_real, num_real, with_is, ref, None, training=False)
    with open(path, "a") as f:
        f.write("\n".join(log.lines) + "\n")


def _evaluation(log, name, step, values, num_real, num_fake, with_is, ref, best, training):
    fid, *rest = values
    log.info(f"Start Evaluation ({step} Step): {name}")
    log.info(f"{num_real} real images is used for evaluation.")
    if with_is and rest:
        log.info(f"Inception score (Step: {step}, {num_fake} generated images): {rest[0]}")
    log.info(f"FID score (Step: {step}, Using {ref} moments): {fid}")
    if training:
        best = (step, fid) if best is None or fid <= best[1] else best
        log.info(f"Best FID score (Step: {best[0]}, Using {ref} moments): {best[1]}")
    for label, value in zip(PRDC, rest[1:]):
        log.info(f"{label} (Step: {step}, Using {ref} images): {value}")
    return best
