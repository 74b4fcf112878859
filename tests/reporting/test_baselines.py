import json
from importlib import resources

from studiogan_slt.reporting import baselines as bl


def _table(tid):
    return [b for b in bl.all_baselines() if b.table == tid]


def test_row_counts_per_table():
    counts = {tid: len(_table(tid)) for tid in bl.table_ids()}
    assert counts == {"studiogan_benchmark": 60, "studiogan_reproducibility": 23, "studiogan_v0.3.0": 21,
                      "paper": 6}
    cifar = [b for b in _table("studiogan_benchmark") if b.dataset == "CIFAR10"]
    assert len(cifar) == 28


def test_known_values_and_protocols():
    (dcgan,) = bl.lookup("CIFAR10", "DCGAN", exact_model=True, table="studiogan_benchmark")
    assert dcgan.metrics["FID"] == 48.29 and dcgan.metrics["IS"] == 6.11 and dcgan.metrics["IFID"] == 117.0
    assert dcgan.protocol["backbone"] == "InceptionV3_tf" and dcgan.protocol["num_fake"] == 50000
    (old,) = bl.lookup("CIFAR10", "DCGAN", exact_model=True, table="studiogan_v0.3.0")
    assert old.metrics == {"IS": 6.638, "FID": 49.03}
    assert (old.protocol["ref"], old.protocol["num_real"], old.protocol["num_fake"]) == ("test", 10000, 10000)
    (ffhq,) = bl.lookup("FFHQ", table="studiogan_benchmark")
    assert ffhq.metrics["IFID"] is None and ffhq.protocol["resolution"] == 1024
    (sagan,) = bl.lookup("ImageNet", "SAGAN", exact_model=True, table="studiogan_reproducibility")
    assert (sagan.metrics["FID"], sagan.metrics["paper_FID"]) == (51.82, 18.28)
    old_stylegan = bl.lookup("CIFAR10", "StyleGAN2", exact_model=True, table="studiogan_v0.3.0")[0]
    assert old_stylegan.protocol["num_fake"] == 50000 and old_stylegan.metrics["FID"] == 3.889


def test_paper_numbers_with_protocol_and_caveat():
    paper = _table("paper")
    assert all(b.protocol["backbone"] == "InceptionV3_torch" and b.protocol["num_fake"] == 10000 for b in paper)
    slt = {(b.dataset, b.model): b.metrics["FID"] for b in paper if b.k == 0.1}
    assert slt == {("LSUN_Bedroom", "GFMN (ResNet G)"): 17.32, ("CelebA", "BigGAN"): 10.96,
                   ("CelebA", "SNGAN"): 16.60}
    (lsun_dense,) = [b for b in paper if b.dataset == "LSUN_Bedroom" and b.k == 1.0]
    assert "17.32" in lsun_dense.caveat
    assert [b.caveat for b in paper if b.dataset == "CelebA"] == [None] * 4


def test_lookup_is_spelling_insensitive_and_prefix_based():
    assert len(bl.lookup("baby_imagenet")) == len(bl.lookup("Baby-ImageNet")) == 7
    models = {b.model for b in bl.lookup("CIFAR10", "dcgan")}
    assert "DCGAN" in models and "ADCGAN" not in models and "SNDCGAN" not in models
    assert {"BigGAN", "BigGAN + DiffAug", "BigGAN + LeCam"} <= {b.model for b in bl.lookup("cifar10", "BigGAN")}
    assert bl.lookup("CIFAR10", "BigGAN-DiffAug", exact_model=True)[0].model == "BigGAN + DiffAug"
    assert bl.lookup("no such data") == []


def test_json_is_package_data_and_every_row_has_metrics():
    raw = json.loads(resources.files("studiogan_slt.data").joinpath("baselines.json").read_text())
    for table in raw["tables"]:
        assert set(table["protocol"]) <= set(bl.PROTOCOL_KEYS)
        for row in table["rows"]:
            assert row["metrics"].get("FID") is not None or row["metrics"].get("paper_FID") is not None \
                or row["metrics"].get("IS") is not None
    text = bl.format_rows(bl.lookup("CelebA"))
    assert "InceptionV3_torch" in text and "k=0.1" in text
