"""Configurations and checks shared by the training tests (test_train.py, test_train_errors.py)."""
import yaml

from tests.studiogan.tiny_config import ADVERSARIAL_ONLY

DATA = {"name": "DIGITS", "img_size": 32, "num_classes": 10}
PRE = {"apply_rflip": False}  # a mirrored digit is not a digit; the plugin warns when flips are on
EMA = {"apply_g_ema": True, "g_ema_decay": 0.5, "g_ema_start": 0}
BACKBONES = {
    # ConvTranspose2d generator, unconditional
    "DCGAN": {"MODEL": {"backbone": "deep_conv", "g_conv_dim": "N/A", "d_conv_dim": "N/A", **EMA},
              "OPTIMIZATION": {"batch_size": 8, "d_updates_per_step": 1, "total_steps": 1},
              "SLT": {"k": 0.3, "bias_init": "uniform", **ADVERSARIAL_ONLY}},
    # resnet with cBN in G and spectral norm in D; D is converted too
    "SNGAN": {"MODEL": {"g_cond_mtd": "cBN", "d_cond_mtd": "PD", "apply_d_sn": True, "g_conv_dim": 16,
                        "d_conv_dim": 16, "z_dim": 32, **EMA},
              "LOSS": {"adv_loss": "hinge"},
              "OPTIMIZATION": {"batch_size": 8, "d_updates_per_step": 1, "total_steps": 1},
              "SLT": {"k": 0.3, "targets": ["G", "D"], "bias_init": "uniform", **ADVERSARIAL_ONLY}},
    # big_resnet: shared class embedding, self-attention, spectral norm in G and D
    "BigGAN": {"MODEL": {"backbone": "big_resnet", "g_cond_mtd": "cBN", "d_cond_mtd": "PD", "apply_g_sn": True,
                         "apply_d_sn": True, "apply_attn": True, "attn_g_loc": [2], "attn_d_loc": [1],
                         "z_dim": 40, "g_shared_dim": 16, "g_conv_dim": 16, "d_conv_dim": 16, **EMA},
               "LOSS": {"adv_loss": "hinge"},
               "OPTIMIZATION": {"batch_size": 8, "d_updates_per_step": 1, "total_steps": 1},
               "SLT": {"k": 0.3, "bias_init": "uniform", **ADVERSARIAL_ONLY}},
    # custom raw-weight layers, no BatchNorm (rescale); widths fixed at 512 channels, so batch 2. EmaStylegan2's
    # decay is 0.5 ** (batch / (g_ema_kimg * 1000)) = 0.5 without ramp-up (ema.py:59-63).
    "StyleGAN2": {"MODEL": {"backbone": "stylegan2", "g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_act_fn": "Auto",
                            "d_act_fn": "Auto", "z_prior": "gaussian", "z_dim": 32, "w_dim": 32,
                            "g_conv_dim": "N/A", "d_conv_dim": "N/A", "apply_g_ema": True},
                  "LOSS": {"adv_loss": "logistic"},
                  "OPTIMIZATION": {"batch_size": 2, "g_lr": 0.0025, "d_lr": 0.0025, "beta1": 0, "beta2": 0.99,
                                   "d_first": False, "d_updates_per_step": 1, "total_steps": 1},
                  "STYLEGAN": {"g_reg_interval": 4, "d_reg_interval": 16, "mapping_network": 2, "style_mixing_p": 0.0, "g_ema_kimg": 0.002,
                               "g_ema_rampup": "N/A", "apply_pl_reg": False, "pl_weight": 0,
                               "d_architecture": "orig", "d_epilogue_mbstd_group_size": 2},
                  "SLT": {"k": 0.3, "mask_bias": False, "rescale": True, **ADVERSARIAL_ONLY}},
}
# Buffers StudioGAN updates on purpose: BN statistics, spectral norm's power-iteration vectors, StyleGAN2's
# running mean of w. Every other non-score tensor must stay exactly as converted.
STATISTICS = ("running_mean", "running_var", "num_batches_tracked", "weight_u", "weight_v", "w_avg")
QUICK = ["--num_workers", "1", "--print_freq", "1", "--save_freq", "1", "--seed", "0"]


def _cfg(folder, name, sections):
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"DATA": DATA, "PRE": PRE, **sections}, sort_keys=False))
    return str(path)


def _assert_one_line_error(exit_code, stderr, save, *expected):
    assert exit_code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), stderr
    assert "Traceback" not in stderr
    assert all(text in lines[0] for text in expected), lines[0]
    assert not save.exists(), f"{save} was created"
