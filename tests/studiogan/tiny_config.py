"""A StudioGAN YAML that trains in seconds on the digits: a 16-channel resnet, batch 8, adversarial SLT search."""
import yaml

# The adversarial loss alone, without the mixed loss a DIGITS search gets by default (search_defaults.ON_DIGITS):
# the tests that spread it check the mechanics of a search, which the moment step would only slow down.
ADVERSARIAL_ONLY = {"keep_host": ["SLT.moments"]}


def write_tiny_cfg(path, total_steps, k):
    path.write_text(yaml.safe_dump({
        "DATA": {"name": "DIGITS", "img_size": 32, "num_classes": 10}, "PRE": {"apply_rflip": False},
        "MODEL": {"backbone": "resnet", "g_cond_mtd": "W/O", "d_cond_mtd": "W/O", "g_conv_dim": 16,
                  "d_conv_dim": 16, "z_dim": 32},
        "OPTIMIZATION": {"batch_size": 8, "d_updates_per_step": 1, "total_steps": total_steps},
        "SLT": {"k": k, "bias_init": "uniform", **ADVERSARIAL_ONLY}}))
    return path
