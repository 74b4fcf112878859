"""Feature extractors: torchvision loading through the hub cache, user networks, taps, input mapping, BN mode."""
import os

import pytest
import torch
from torch import nn

from studiogan_slt.errors import SLTError
from studiogan_slt.metrics.digits_net import NETWORK, digits_cnn
from studiogan_slt.moments.extractors import IMAGENET_MEAN, IMAGENET_STD, FeatureExtractor, parse_spec


def _images(n=4, size=32, seed=0):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_missing_imagenet_weights_name_the_file_and_the_folder(empty_hub):
    with pytest.raises(SLTError) as err:
        FeatureExtractor("vgg19_bn")
    message = str(err.value)
    assert "vgg19_bn-c79401a0.pth" in message and str(empty_hub) in message
    assert "\n" not in message


def test_torchvision_weights_load_through_torchvisions_own_code(empty_hub):
    from torchvision.models import squeezenet1_1

    reference = squeezenet1_1()
    empty_hub.mkdir(parents=True)
    torch.save(reference.state_dict(), empty_hub / "squeezenet1_1-b8a52dc0.pth")
    fx = FeatureExtractor("squeezenet1_1")
    loaded = fx.nets[0].net.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in reference.state_dict().items())
    assert fx.nets[0].mean.flatten().tolist() == pytest.approx(IMAGENET_MEAN)
    assert fx(_images(size=64)).dim() == 2


def test_vgg19_bn_default_taps_are_the_16_trunk_relus_with_paper_feature_count():
    fx = FeatureExtractor({"name": "vgg19_bn", "weights": None})
    features = fx(_images(n=2))
    taps = fx.nets[0].tapped_layers
    assert len(taps) == 16 and all(t.startswith("features.") for t in taps)
    assert features.shape == (2, 303104)  # paper §2.6: F = 303,104 at 32x32


def _manual_relu_features(net, x):
    out, feats = x, []
    for layer in net.features:
        out = layer(out)
        if isinstance(layer, nn.ReLU):
            feats.append(out.flatten(1).clone())
    return torch.cat(feats, 1)


def test_taps_equal_a_manual_walk_and_skip_the_classifier(tmp_path):
    torch.manual_seed(0)
    net = digits_cnn()
    path = tmp_path / "digits.pt"
    torch.save(net.state_dict(), path)
    fx = FeatureExtractor({"network": NETWORK, "weights": str(path)}, bn_mode="eval")
    x = _images(n=3)
    net.eval()
    with torch.no_grad():
        expected = _manual_relu_features(net, x)  # mean = std = 0.5 is the identity on [-1, 1]
        assert torch.equal(fx(x), expected)
        assert fx(x).shape == (3, 106496)
        calls = []
        fx.nets[0].net.classifier.register_forward_hook(lambda *a: calls.append(1))
        fx(x)
    assert calls == []


def test_resnet_shared_relu_contributes_every_call():
    fx = FeatureExtractor({"name": "resnet18", "weights": None})
    features = fx(_images(n=2))
    # stem relu (64x16x16) + 2 calls per BasicBlock's shared relu
    per_stage = [64 * 8 * 8, 128 * 4 * 4, 256 * 2 * 2, 512 * 1 * 1]
    assert features.shape[1] == 64 * 16 * 16 + sum(4 * n for n in per_stage)


def test_input_mapping_from_generator_range_into_extractor_normalisation():
    spec = {"network": "torch.nn:Identity", "layers": [""], "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD)}
    fx = FeatureExtractor(spec)
    x = _images(n=2, size=5)
    mean, std = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    assert torch.allclose(fx(x), (((x + 1) / 2 - mean) / std).flatten(1))
    plain = FeatureExtractor({"network": "torch.nn:Identity", "layers": [""]})
    assert torch.allclose(plain(x), x.flatten(1))


def test_several_extractors_are_concatenated_and_frozen():
    fx = FeatureExtractor([{"network": NETWORK}, {"network": NETWORK, "kwargs": {"width": 8}}])
    x = _images(n=3).requires_grad_(True)
    features = fx(x)
    assert features.shape == (3, 106496 + 106496 // 4)
    assert not any(p.requires_grad for p in fx.parameters())
    features.sum().backward()
    assert x.grad.abs().sum() > 0


def test_bn_mode_is_kept_whatever_train_or_eval_is_called():
    x = _images(n=6)
    for mode in ("train", "eval"):
        fx = FeatureExtractor({"network": NETWORK}, bn_mode=mode)
        fx.eval() if mode == "train" else fx.train()
        bns = [m for m in fx.modules() if isinstance(m, nn.BatchNorm2d)]
        assert bns and all(m.training == (mode == "train") for m in bns)
        with torch.no_grad():
            alone, together = fx(x[:3]), fx(x)[:3]
        # per-batch statistics make a sample's features depend on its batch; running statistics do not
        assert torch.allclose(alone, together, atol=1e-5) == (mode == "eval")


def conv_then_inplace_relu():
    """A user network whose tapped conv output is later overwritten by an in-place ReLU."""
    return nn.Sequential(nn.Conv2d(3, 3, 1), nn.ReLU(inplace=True))


def test_in_place_change_of_a_tapped_output_is_refused():
    fx = FeatureExtractor({"network": f"{__name__}:conv_then_inplace_relu", "layers": ["0"]})
    with pytest.raises(RuntimeError, match="in place"):
        fx(_images(n=2, size=3))


def test_user_network_errors_are_one_line(tmp_path):
    with pytest.raises(SLTError, match="cannot be imported"):
        FeatureExtractor({"network": "no_such_module_xyz:net"})
    with pytest.raises(SLTError, match="not found"):
        FeatureExtractor({"network": NETWORK, "weights": str(tmp_path / "missing.pt")})
    wrong = tmp_path / "wrong.pt"
    torch.save(digits_cnn(width=8).state_dict(), wrong)
    with pytest.raises(SLTError, match="do not fit") as err:
        FeatureExtractor({"network": NETWORK, "weights": str(wrong)})
    assert "\n" not in str(err.value)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"nope")
    with pytest.raises(SLTError, match="cannot be read"):
        FeatureExtractor({"network": NETWORK, "weights": str(garbage)})


@pytest.mark.parametrize("spec, match", [
    ({"name": "vgg19_bn", "weight": "x"}, "unknown extractor key 'weight'"),
    ({"name": "not_a_net"}, "unknown torchvision classifier"),
    ({"name": "vgg19_bn", "network": "a:b"}, "exactly one"),
    ({"network": "no_colon"}, "module:function"),
    ({"network": NETWORK, "layers": []}, "layers"),
    ({"network": NETWORK, "std": [0.5, 0.5, 0]}, "std > 0"),
    (3, "torchvision name or a dict"),
])
def test_bad_specs_name_the_problem(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_spec(spec)


def test_unknown_layer_and_unknown_bn_mode():
    with pytest.raises(ValueError, match="no module 'features.99'"):
        FeatureExtractor({"network": NETWORK, "layers": ["features.99"]})
    with pytest.raises(ValueError, match="bn_mode"):
        FeatureExtractor({"network": NETWORK}, bn_mode="frozen")


def test_digits_command_trains_and_saves_a_user_network(tmp_path):
    from click.testing import CliRunner

    from studiogan_slt.cli import main

    out = tmp_path / "digits.pt"
    result = CliRunner().invoke(main, ["extractor", "digits", "-o", str(out), "--epochs", "1"])
    assert result.exit_code == 0, result.output
    assert "valid accuracy" in result.output and os.path.exists(out)
    fx = FeatureExtractor({"network": NETWORK, "weights": str(out)})
    assert fx(_images(n=2)).shape == (2, 106496)
    bad = CliRunner().invoke(main, ["extractor", "digits", "-o", str(tmp_path / "no" / "x.pt")])
    assert bad.exit_code == 2 and "does not exist" in bad.output
