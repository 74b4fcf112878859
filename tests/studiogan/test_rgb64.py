"""The non-digits path end to end, through the CLI: a bare `SLT: {k: 0.1}` on a 64x64 RGB ImageFolder with
StudioGAN's resnet generator at 64 px gets the mixed loss on vgg19_bn by default, trains, exports and samples.

The vgg19_bn file in the torch hub folder is a seeded RANDOM state_dict saved under torchvision's ImageNet name: the
loading code is the real one, but these features are not ImageNet's, so nothing here says how good the default
search is on real data; it shows that it runs there.
"""
import numpy as np
import pytest
import torch

from studiogan_slt.ticket.save_load import read_ticket
from tests.cli.test_ticket_cli import read_png
from tests.studiogan.driving import drive

SIZE, PER_CLASS, STEPS = 64, 3, 2
CONFIG = f"""\
DATA: {{name: "COLOURED_DIGITS", img_size: {SIZE}, num_classes: 10}}
PRE: {{apply_rflip: false}}
MODEL: {{backbone: "resnet", g_cond_mtd: "W/O", d_cond_mtd: "W/O", g_conv_dim: 4, d_conv_dim: 4, z_dim: 16}}
OPTIMIZATION: {{batch_size: 4, total_steps: {STEPS}}}
SLT: {{k: 0.1}}
"""


@pytest.fixture(scope="module")
def coloured_digits(tmp_path_factory):
    """The digits tinted with one colour per class and upscaled to 64x64: an RGB ImageFolder (train/<class>/)."""
    from PIL import Image

    from studiogan_slt.data.digits import digits_arrays

    out = tmp_path_factory.mktemp("rgb64")
    images, labels = digits_arrays("train")
    colours = np.random.default_rng(0).uniform(0.3, 1.0, size=(10, 3))
    for c in range(10):
        (out / "train" / str(c)).mkdir(parents=True)
        for i in np.flatnonzero(labels == c)[:PER_CLASS]:
            tinted = (images[i].astype(np.float64) * colours[c]).astype(np.uint8)
            Image.fromarray(tinted).resize((SIZE, SIZE), Image.BILINEAR).save(out / "train" / str(c) / f"{i}.png")
    return out


def test_bare_section_trains_exports_and_samples_on_64px_rgb(studiogan_root, coloured_digits, random_vgg19_bn,
                                                            tmp_path):
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / random_vgg19_bn.name).symlink_to(random_vgg19_bn)
    cfg = tmp_path / "rgb64.yaml"
    cfg.write_text(CONFIG)
    save, ticket, samples = tmp_path / "save", tmp_path / "g.slt", tmp_path / "samples"
    jobs = [{"name": "train", "kind": "cli",
             "args": ["train", "-cfg", str(cfg), "-data", str(coloured_digits), "-save", str(save), "-metrics",
                      "none", "--num_workers", "1", "--print_freq", "1", "--save_freq", str(STEPS), "--seed", "0",
                      "--no-export"]},
            {"name": "export", "kind": "cli", "args": ["export", "-ckpt", f"glob:{save}/checkpoints/*", "-o",
                                                       str(ticket)]},
            {"name": "sample", "kind": "cli", "args": ["sample", str(ticket), "-n", "4", "-o", str(samples)]}]
    results, output = drive(tmp_path, jobs, studiogan_root, env={"TORCH_HOME": str(tmp_path / "torch")})
    for name in ("train", "export", "sample"):
        assert results[name]["exit_code"] == 0, (name, results[name])

    log = next((save / "logs").glob("*.log")).read_text()
    assert "SLT: SLT.moments {} -> {'extractors': ['vgg19_bn']" in log  # the default mixed loss, said once
    assert log.count("SLT: SLT.moments") == 1 and "moment loss added to the adversarial loss" in log
    assert "masked bias tensors are all zero" not in output + results["train"]["stderr"]
    header = read_ticket(ticket)
    assert header.masks and all(m.dtype == torch.bool for m in header.masks.values())
    images = [read_png(p) for p in sorted(samples.glob("*.png"))]
    assert len(images) == 4 and all(image.shape == (SIZE, SIZE, 3) for image in images)
    assert np.std(images) > 0
