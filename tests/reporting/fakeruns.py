"""Small fake StudioGAN -save folders whose logs follow StudioGAN's formats (src/utils/log.py make_logger,
src/loader.py config dump, src/worker.py evaluate and LOG_FORMAT), for the reporting tests."""
import json
from datetime import datetime, timedelta
from pathlib import Path

PRDC = ("Improved Precision", "Improved Recall", "Density", "Coverage")


class _Log:
    def __init__(self, start):
        self.time, self.lines = start, []

    def info(self, message, seconds=1):
        self.time += timedelta(seconds=seconds)
        self.lines.append(f"[INFO] {self.time:%Y-%m-%d %H:%M:%S} > {message}")


def write_run(save_dir, name, *, slt=None, backbone="deep_conv", cfg_file="configs/CIFAR10/DCGAN-SLT.yaml",
              dataset="CIFAR10", img_size=32, evals=(), final_evals=(), num_real=10000, num_fake=10000,
              with_is=True, total_steps=1000, seed=0, g_lr=0.0002, kept=None, eval_backbone="InceptionV3_tf",
              ref="train", extra_json=None):
    """Write SAVE/logs/<name>.log. evals / final_evals: (step, FID[, IS, prc, rec, dns, cvg]) tuples, logged
    during training (with the Best FID line) and after `End of training!`."""
    log = _Log(datetime(2024, 5, 1, 12, 0, 0))
    log.info(f"Run name : {name}", 0)
    sections = {"DATA": {"name": dataset, "img_size": img_size, "num_classes": 10, "img_channels": 3},
                "MODEL": {"backbone": backbone, "z_dim": 128, "apply_g_ema": False},
                "OPTIMIZATION": {"batch_size": 64, "g_lr": g_lr, "d_lr": 0.0002, "total_steps": total_steps},
                "RUN": {"cfg_file": cfg_file, "seed": seed, "eval_metrics": ["is", "fid", "prdc"],
                        "post_resizer": "legacy", "eval_backbone": eval_backbone, "ref_dataset": ref,
                        "batch_statistics": False}}
    if slt is not None:
        sections["SLT"] = {"k": "N/A", "targets": ["G"], "scope": "layer", "train_mode": "adversarial",
                           "moments": {}, **slt}
    for key, value in sections.items():
        log.info(f"cfgs.{key} =", 0)
        log.info(json.dumps(value, indent=2), 0)
    if kept is not None:
        log.info(f"SLT kept parameters: {kept[0]:,} / {kept[1]:,}")
    log.info("Start training!")
    best = None
    for i, (step, *metrics) in enumerate(evals):
        log.info(f"Step: {step:>6} Progress: {step / total_steps:<.1%} Elapsed: 0:00:0{i} Gen_loss: 1.061 "
                 "Dis_loss: 2.753 Cls_loss: N/A Topk:  N/A aa_p: N/A ", 30)
        best = _evaluation(log, name, step, metrics, num_real, num_fake, with_is, ref, best, training=True)
    log.info("End of training!")
    for step, *metrics in final_evals:
        log.info("-" * 80)
        _evaluation(log, name, step, metrics, num_real, num_fake, with_is, ref, None, training=False)
    path = Path(save_dir) / "logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(log.lines) + "\n")
    if extra_json is not None:
        stats = Path(save_dir) / "statistics" / name
        stats.mkdir(parents=True, exist_ok=True)
        (stats / "digits_fid.json").write_text(json.dumps(extra_json))
    return path


def _evaluation(log, name, step, metrics, num_real, num_fake, with_is, ref, best, training):
    fid, *rest = metrics
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
