"""A torchvision extractor's missing weights file is downloaded into the torch hub folder, once, by torch's own
downloader; a refused download is one line naming the file, the URL and the folder. No network: the download is
served from a local file:// URL."""
import threading

import pytest
import torch

from studiogan_slt.errors import SLTError
from studiogan_slt.moments.extractors import FeatureExtractor, hub_weights_file

VGG_FILE = "vgg19_bn-c79401a0.pth"
VGG_URL = f"https://download.pytorch.org/models/{VGG_FILE}"
TORCH_DOWNLOAD = torch.hub.download_url_to_file  # before empty_hub replaces it with a refusal


@pytest.fixture
def served_from(monkeypatch):
    """torch.hub.download_url_to_file serving every URL from a local file through the real downloader (file://);
    returns (set the local source, the calls made)."""
    source, calls = {}, []

    def download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, hash_prefix))
        TORCH_DOWNLOAD(source["path"].as_uri(), dst, source.get("hash"), progress)

    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    return source, calls


def test_missing_vgg19_bn_is_fetched_into_the_hub_once(empty_hub, served_from, random_vgg19_bn, capsys):
    source, calls = served_from
    source["path"] = random_vgg19_bn
    fx = FeatureExtractor("vgg19_bn")
    assert calls == [(VGG_URL, "c79401a0")]  # torch's hash check gets the prefix the file name carries
    assert (empty_hub / VGG_FILE).read_bytes() == random_vgg19_bn.read_bytes()
    assert f"downloading ImageNet weights for extractor vgg19_bn from {VGG_URL}" in capsys.readouterr().out
    want = torch.load(random_vgg19_bn, weights_only=True)
    assert all(torch.equal(fx.nets[0].net.state_dict()[k], v) for k, v in want.items())
    assert hub_weights_file("vgg19_bn")[1] == str(empty_hub / VGG_FILE) and len(calls) == 1


def test_concurrent_loaders_download_once(empty_hub, served_from, tmp_path):
    from torchvision.models import squeezenet1_1

    source, calls = served_from
    source["path"] = tmp_path / "squeezenet.pth"
    torch.save(squeezenet1_1().state_dict(), source["path"])
    paths, errors = [], []

    def load():
        try:
            paths.append(hub_weights_file("squeezenet1_1")[1])
        except Exception as err:  # noqa: BLE001 (shown by the assertion below)
            errors.append(err)

    threads = [threading.Thread(target=load) for _ in range(4)]  # as DDP ranks building the loss at once
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(calls) == 1 and len(set(paths)) == 1 and len(paths) == 4


def test_refused_download_is_one_line_naming_file_url_and_folder(empty_hub):
    with pytest.raises(SLTError) as err:
        FeatureExtractor("vgg19_bn")
    message = str(err.value)
    assert "\n" not in message and "could not be downloaded (URLError" in message
    assert f"put the file {VGG_FILE} (from {VGG_URL}) in the folder {empty_hub}" in message
    assert not (empty_hub / VGG_FILE).exists()


def test_a_download_with_the_wrong_hash_leaves_no_file(empty_hub, served_from, tmp_path):
    source, _ = served_from
    source["path"], source["hash"] = tmp_path / "other.pth", "c79401a0"
    source["path"].write_bytes(b"not the ImageNet weights")
    with pytest.raises(SLTError, match=r"could not be downloaded \(RuntimeError: invalid hash value") as err:
        hub_weights_file("vgg19_bn")
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in empty_hub.iterdir()) == [f"{VGG_FILE}.lock"]
