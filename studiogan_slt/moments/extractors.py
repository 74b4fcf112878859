"""Frozen feature networks for moment matching (GFMN), and the taps that read their layers.

An extractor spec is a torchvision classifier name (`"vgg19_bn"`, loaded with its ImageNet weights from the torch hub
cache by torchvision's own code, downloaded there first when missing) or a dict:

    {"name": "resnet18", "weights": "DEFAULT" | "<enum tag>" | None, "layers": [...]}             # torchvision
    {"network": "pkg.module:function", "weights": "PATH", "kwargs": {...}, "mean": [...], "std": [...],
     "layers": [...]}                                                                           # user network
    "digits_cnn"                                    # built-in: the digits CNN, trained into the user cache once


A user network is `function(**kwargs)` with the plain state_dict at PATH loaded strictly. `mean`/`std` say which
normalisation the network expects (default 0.5/0.5: images exactly as StudioGAN's loader gives them, in [-1, 1]);
torchvision classifiers use ImageNet's. Generator output in [-1, 1] is mapped affinely into that normalisation.

Taps: `layers` names modules whose outputs are features; a module called several times in one forward (ResNet's
shared ReLU) contributes every call. Default: every ReLU whose output is a 4-D map, i.e. the conv trunk (VGG19-BN:
the 16 ReLUs of `features`). Each tapped output is flattened over CxHxW and all are concatenated, extractor after
extractor, into one [B, F] matrix. The forward pass stops after the last tap, so classifier heads cost nothing.
"""
import importlib
import os
from urllib.parse import urlparse

import torch
from torch import nn

from studiogan_slt.errors import SLTError
from studiogan_slt.hub import FetchFailed, fetch_once, hub_checkpoints
from studiogan_slt.metrics import digits_net

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
GENERATOR_RANGE = (0.5, 0.5, 0.5)  # mean = std = 0.5 maps [-1, 1] onto itself
BN_MODES = ("train", "eval")
_RELUS = (nn.ReLU, nn.ReLU6, nn.LeakyReLU)
_TORCHVISION_KEYS = {"name", "weights", "layers"}
_USER_KEYS = {"network", "weights", "kwargs", "mean", "std", "layers"}


def parse_spec(spec):
    """Normalise one extractor spec (str or dict) to a full dict; ValueError naming the bad key otherwise."""
    if spec == digits_net.BUILTIN:
        spec = {"network": digits_net.NETWORK, "weights": str(digits_net.cached_weights())}
    if isinstance(spec, str):
        spec = {"network": spec} if ":" in spec else {"name": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"extractor must be a torchvision name or a dict, got {spec!r}")
    if ("name" in spec) == ("network" in spec):
        raise ValueError("extractor needs exactly one of 'name' (torchvision classifier) or 'network' (module:function)")
    allowed = _TORCHVISION_KEYS if "name" in spec else _USER_KEYS
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValueError(f"unknown extractor key {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    layers = spec.get("layers")
    if layers is not None and (not isinstance(layers, (list, tuple)) or not layers
                               or not all(isinstance(n, str) for n in layers)):
        raise ValueError(f"extractor 'layers' must be a non-empty list of module names or null, got {layers!r}")
    if "name" in spec:
        from torchvision.models import list_models
        import torchvision.models as tvm

        if spec["name"] not in list_models(module=tvm):
            raise ValueError(f"unknown torchvision classifier {spec['name']!r}; allowed: "
                             f"{', '.join(list_models(module=tvm))}")
        return {"name": spec["name"], "weights": spec.get("weights", "DEFAULT"),
                "layers": list(layers) if layers else None}
    if not isinstance(spec["network"], str) or spec["network"].count(":") != 1:
        raise ValueError(f"extractor 'network' must be 'module:function', got {spec['network']!r}")
    out = {"network": spec["network"], "weights": spec.get("weights"), "kwargs": dict(spec.get("kwargs") or {}),
           "mean": list(spec.get("mean", GENERATOR_RANGE)), "std": list(spec.get("std", GENERATOR_RANGE)),
           "layers": list(layers) if layers else None}
    if len(out["mean"]) != 3 or len(out["std"]) != 3 or min(out["std"]) <= 0:
        raise ValueError("extractor 'mean' and 'std' must be 3 numbers each, std > 0")
    return out


def hub_weights_file(name, tag="DEFAULT"):
    """(weights enum, file path) torchvision would load for classifier `name`, the file downloaded into the torch
    hub folder first when it is missing; SLTError when that download fails.

    Fetched before torchvision's loader runs, because offline the loader fails with a urllib traceback, and because
    DDP ranks loading at once would each download it (fetch_once lets one download while the others wait)."""
    from torchvision.models import get_model_weights

    try:
        weights = get_model_weights(name)[tag]
    except KeyError:
        raise ValueError(f"torchvision has no weights {tag!r} for {name}; allowed: "
                         f"{', '.join(w.name for w in get_model_weights(name))}, DEFAULT") from None
    filename = os.path.basename(urlparse(weights.url).path)
    folder = hub_checkpoints()
    digest = torch.hub.HASH_REGEX.search(filename)
    try:
        path = fetch_once(weights.url, os.path.join(folder, filename), f"ImageNet weights for extractor {name}",
                          hash_prefix=digest.group(1) if digest else None)
    except FetchFailed as err:
        raise SLTError(f"ImageNet weights for extractor {name} could not be downloaded ({err}): put the file "
                       f"{filename} (from {weights.url}) in the folder {folder}") from None
    return weights, path


def _file_fingerprint(path):
    st = os.stat(path)
    return {"file": os.path.abspath(path), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}


def check_spec_files(spec):
    """SLTError now (at config time) for anything load_network would fail on because of the user's files."""
    spec = parse_spec(spec)
    if "name" in spec:
        if spec["weights"] is not None:
            hub_weights_file(spec["name"], spec["weights"])
        return
    _import_function(spec["network"])
    if spec["weights"] is not None and not os.path.isfile(spec["weights"]):
        raise SLTError(f"extractor weights file not found: {spec['weights']}")


def spec_identity(spec):
    """JSON-able identity of an extractor, used in cache keys: the spec plus which weight file it loads."""
    spec = parse_spec(spec)
    ident = dict(spec)
    if "name" in spec and spec["weights"] is not None:
        ident["weights_file"] = _file_fingerprint(hub_weights_file(spec["name"], spec["weights"])[1])
    elif "network" in spec and spec["weights"] is not None:
        ident["weights_file"] = _file_fingerprint(spec["weights"])
    return ident


def _import_function(target):
    module_name, attr = target.split(":")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise SLTError(f"extractor network {target!r} cannot be imported: {exc}") from None
    if not callable(fn):
        raise SLTError(f"extractor network {target!r} is not callable")
    return fn


def load_network(spec):
    """(network, mean, std) for a spec; weights loaded, nothing frozen yet."""
    spec = parse_spec(spec)
    if "name" in spec:
        from torchvision.models import get_model

        weights = None if spec["weights"] is None else hub_weights_file(spec["name"], spec["weights"])[0]
        return get_model(spec["name"], weights=weights), IMAGENET_MEAN, IMAGENET_STD
    net = _import_function(spec["network"])(**spec["kwargs"])
    if spec["weights"] is not None:
        try:
            state = torch.load(spec["weights"], map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise SLTError(f"extractor weights file not found: {spec['weights']}") from None
        except Exception as exc:  # pickle/zip errors: the file is not a state_dict torch can read
            raise SLTError(f"extractor weights {spec['weights']} cannot be read as a state_dict: {exc}") from None
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            raise SLTError(f"extractor weights {spec['weights']} do not fit {spec['network']}: "
                           f"{' '.join(first[:2])}") from None
    return net, tuple(spec["mean"]), tuple(spec["std"])


class _StopForward(Exception):
    """Raised by the last tap to skip the rest of the network (its classifier head)."""


class TappedNetwork(nn.Module):
    """One frozen network with forward hooks on its tapped modules; forward(x) -> [B, F_net]."""

    def __init__(self, net, mean, std, layers=None):
        super().__init__()
        self.net = net.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        modules = dict(net.named_modules())
        self.default_layers = layers is None
        if layers is None:
            layers = [n for n, m in modules.items() if isinstance(m, _RELUS)]
            if not layers:
                raise ValueError(f"{type(net).__name__} has no ReLU to tap by default; list its 'layers'")
        missing = [n for n in layers if n not in modules]
        if missing:
            raise ValueError(f"extractor has no module {missing[0]!r}; some of its modules: "
                             f"{', '.join(n for n in list(modules)[1:12])}, ...")
        self.layers = list(layers)
        self.kept = None  # indices into self.layers that carry features; settled on the first forward
        self._calls_to_tap = None  # how many hook calls to wait for before skipping the rest of the network
        self._outputs = None
        for index, name in enumerate(self.layers):
            modules[name].register_forward_hook(self._hook(index))

    def _hook(self, index):
        def hook(module, inputs, output):
            if self._outputs is None:
                return
            self._outputs.append((index, output, output._version))
            if self._calls_to_tap is not None and len(self._outputs) == self._calls_to_tap:
                raise _StopForward
        return hook

    def forward(self, images):
        x = ((images + 1) / 2 - self.mean) / self.std
        self._outputs = []
        try:
            self.net(x)
        except _StopForward:
            pass
        finally:
            outputs, self._outputs = self._outputs, None
        if self.kept is None:
            self._settle_taps(outputs)
        outputs = [o for o in outputs if o[0] in self.kept]
        for index, out, version in outputs:
            if out._version != version:
                raise RuntimeError(f"tapped output of {self.layers[index]!r} was modified in place later in the "
                                   "forward pass; tap a different module")
        return torch.cat([out.flatten(1) for _, out, _ in outputs], dim=1)

    def _settle_taps(self, outputs):
        # Default taps keep only conv-trunk ReLUs (4-D maps); ReLUs of a classifier head (2-D) are dropped.
        if self.default_layers:
            flat = {i for i, out, _ in outputs if out.dim() != 4}
            self.kept = {i for i, _, _ in outputs} - flat
        else:
            self.kept = {i for i, _, _ in outputs}
        never = [self.layers[i] for i in range(len(self.layers)) if i not in self.kept and not self.default_layers]
        if never:
            raise ValueError(f"extractor layer {never[0]!r} is never called in the forward pass")
        if not self.kept:
            raise ValueError("extractor has no ReLU with a 4-D output to tap by default; list its 'layers'")
        last = max(pos for pos, (i, _, _) in enumerate(outputs) if i in self.kept)
        if any(i not in self.kept for i, _, _ in outputs[:last + 1]):
            return  # a dropped tap fires before the last kept one: keep running the whole network
        self._calls_to_tap = last + 1

    @property
    def tapped_layers(self):
        """Names of the modules whose outputs are features (known after the first forward)."""
        return [n for i, n in enumerate(self.layers) if self.kept is None or i in self.kept]


class FeatureExtractor(nn.Module):
    """Several frozen networks in one: forward(images in [-1, 1]) -> [B, F] features, concatenated.

    BatchNorm layers run in `bn_mode` ("train": per-batch statistics, as GFMN and the paper; "eval": running
    statistics) whatever .train()/.eval() is called on this module; every other layer is always in eval mode."""

    def __init__(self, specs, *, bn_mode="train"):
        super().__init__()
        if bn_mode not in BN_MODES:
            raise ValueError(f"bn_mode must be one of {', '.join(BN_MODES)}, got {bn_mode!r}")
        if isinstance(specs, (str, dict)):
            specs = [specs]
        if not specs:
            raise ValueError("at least one extractor is needed")
        self.specs = [parse_spec(s) for s in specs]
        self.bn_mode = bn_mode
        self.nets = nn.ModuleList(TappedNetwork(*load_network(s), layers=s["layers"]) for s in self.specs)
        self.train()

    def train(self, mode=True):
        super().train(False)
        for m in self.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.train(self.bn_mode == "train")
        return self

    def forward(self, images):
        return torch.cat([net(images) for net in self.nets], dim=1)

    def identity(self):
        """What the features depend on, for cache keys: specs, weight files and BN mode."""
        return {"extractors": [spec_identity(s) for s in self.specs], "bn_mode": self.bn_mode}

