"""Every digits metric of a set of generated images, each with its real-vs-real floor.

On the evaluation network's features (studiogan_slt.metrics.digits_eval):
  fid        FID of the first 296 generated images against the 296-image valid split (the original metric);
  fid_train  FID of the first 1,501 generated images against the 1,501-image train split: five times the images
             on each side, so less of FID's small-sample bias; None when fewer than 1,501 images were given;
  kid        KID (studiogan_slt.metrics.kid) of the first min(N, 1,501) generated images against the train split:
             unbiased, so real against real scores 0 on average at every size; mean and std over subsets;
  kid_valid  KID of the same images against the 296-image valid split, which the generator never saw (unbiased
             at 296 images: KID has no small-sample bias to correct);
  memorisation  the memorisation ratio (studiogan_slt.metrics.memorisation) of the same images: median distance
             to the nearest train image, over that of the valid images; about 1 for new digits, well below 1 for
             copies of the training set.
The generator was fitted to the train split, so a generator that copied it could score below the floors of the two
train-split metrics; kid_valid and memorisation are the metrics that see it, and the class histogram (digits_eval)
is the check against a collapse onto a few training images.

KID's kernel (x.y/d + 1)^3 assumes features of order 1, as Inception's are; the ELU features here reach about 10
(mean x.x/d about 33), where the cubic kernel is ruled by the few largest norms (on raw features the valid split
scored -168 ± 87 against the train split), so KID standardises every feature by the train split's mean and std
first (a fixed map: the train split is fixed); the memorisation ratio measures its distances in the same
standardised space, so that no feature rules them by its scale alone.

The floors depend on the evaluation network only, and cost more than scoring a generated set; they are computed
once per network and kept in the process and, as JSON, in the user cache (keyed by a digest of the network's
weights and FLOORS_VERSION), so a search that scores every save does not recompute them.
"""
import hashlib
import json

import numpy as np

from studiogan_slt import atomic
from studiogan_slt.cache import cache_dir
from studiogan_slt.data.digits import digits_arrays
from studiogan_slt.errors import SLTError
from studiogan_slt.metrics import digits_eval
from studiogan_slt.metrics.kid import kid, mmd2_unbiased
from studiogan_slt.metrics.memorisation import memorisation_ratio

# the keys of score() a run can select its best checkpoint by; lower is better
METRICS = ("fid", "fid_train", "kid", "kid_valid")
FLOOR_SEED = 0
FLOOR_SAMPLES = 5  # e.g. disjoint 296-image subsets of the train split: 5 x 296 = 1,480 of its 1,501 images
FLOORS_VERSION = "floors-v2"  # part of the floors' cache key: change it when a floor's definition changes
_references, _floors = {}, {}  # in-process caches, by network_digest()


def network_digest(net):
    """sha256 of the network's weights (names, shapes, dtypes, bytes): the same weights file gives the same digest,
    and so does a network trained in this process without being saved."""
    h = hashlib.sha256()
    for name, tensor in net.state_dict().items():
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype};".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _reference(net, digest):
    if digest not in _references:
        _references[digest] = {split: digits_eval.predict(net, digits_arrays(split)[0])
                               for split in ("valid", "train")}
    return _references[digest]


def _fid(a, b):
    return digits_eval.frechet_distance(*digits_eval.moments(a), *digits_eval.moments(b))


def _standardise(features, train):
    mu, sd = train.mean(axis=0), train.std(axis=0)
    sd[sd == 0] = 1.0  # a feature the train split never moves (a dead unit) carries no scale to divide by
    return (features - mu) / sd


def _kid(a, b, train):
    return kid(_standardise(a, train), _standardise(b, train))


def _floor(sample, num_fake, num_real, values):
    """values: the metric on one or several real samples; std is the spread between samples (None for one)."""
    return {"sample": sample, "num_fake": num_fake, "num_real": num_real, "value": float(np.mean(values)),
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else None, "samples": len(values)}


def floors_path(digest):
    return cache_dir() / "digits_floors" / f"{FLOORS_VERSION}_{digest[:32]}.json"


def floors(net):
    """_compute_floors(net), from the process's cache, else the user cache's file, else computed and saved there."""
    digest = network_digest(net)
    if digest not in _floors:
        path = floors_path(digest)
        try:
            _floors[digest] = json.loads(path.read_text())
        except (OSError, ValueError):  # absent, unreadable or cut short: computing again costs seconds
            _floors[digest] = _compute_floors(_reference(net, digest))
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic.write_text(path, json.dumps(_floors[digest]))
            except OSError:
                pass  # a read-only cache only costs the next process the same seconds
    return _floors[digest]


def _compute_floors(ref):
    """{metric: [floor, ...]}: each metric computed between two sets of REAL digits, so a generated set's score
    can be read against the best a generator could get, and its std against the noise between samples. A
    held-out sample of 1,501 real images does not exist (the data set has 1,797), so the train-split metrics get
    two: the valid split against the train split, and random halves of the train split against each other (750 vs
    751); FID is biased upwards at smaller sizes, so its floor at 1,501 vs 1,501 is expected below both."""
    valid, train = ref["valid"][0], ref["train"][0]
    rng = np.random.default_rng(FLOOR_SEED)
    order = rng.permutation(len(train))
    n, half = len(valid), len(train) // 2
    picks = [order[i * n:(i + 1) * n] for i in range(FLOOR_SAMPLES)]
    rests = [np.setdiff1d(order, pick) for pick in picks]
    halvings = [rng.permutation(len(train)) for _ in range(FLOOR_SAMPLES)]
    halves = [(train[p[:half]], train[p[half:]]) for p in halvings]
    halves_text = f"{FLOOR_SAMPLES} random halvings of the train split (seed {FLOOR_SEED}), mean and std"
    subsets_text = (f"{FLOOR_SAMPLES} disjoint {n}-image subsets of the train split (seed {FLOOR_SEED}), mean "
                    "and std")
    std_train, std_valid = _standardise(train, train), _standardise(valid, train)
    return {
        "fid": [_floor(subsets_text, n, n, [_fid(train[p], valid) for p in picks])],
        "fid_train": [_floor("the valid split", n, len(train), [_fid(valid, train)]),
                      _floor(halves_text, half, len(train) - half, [_fid(a, b) for a, b in halves])],
        # subsets of a half would be the half itself: the whole halves give the same estimate at a hundredth of
        # the cost
        "kid": [_floor("the valid split", n, len(train), [_kid(valid, train, train)[0]]),
                _floor(halves_text, half, len(train) - half,
                       [mmd2_unbiased(_standardise(a, train), _standardise(b, train)) for a, b in halves])],
        # subsets of 296 against the 296 valid images: KID's subsets would be the whole sets
        "kid_valid": [_floor(f"{subsets_text}, against the valid split", n, n,
                             [mmd2_unbiased(std_train[p], std_valid) for p in picks])],
        # each subset is held out of the train split it is measured against, as the valid split is: a subset
        # inside the reference would find itself at distance 0
        "memorisation": [_floor(f"{subsets_text}, each against the rest of the train split", n, n,
                                [memorisation_ratio(std_train[p], std_train[r], std_valid)
                                 for p, r in zip(picks, rests)])],
    }


def score(images_uint8, net=None):
    """digits_eval.evaluate's result (valid-split FID, class histogram) plus fid_train, kid, kid_std, kid_valid,
    kid_valid_std, memorisation and floors,
    for uint8 images [N, 32, 32, C], N >= 296 (the first 296 for the valid split, the first 1,501 for the train
    split)."""
    net = net if net is not None else digits_eval.load_eval_net()
    ref = _reference(net, network_digest(net))
    num_valid, num_train = len(ref["valid"][0]), len(ref["train"][0])
    if len(images_uint8) < num_valid:
        raise SLTError(f"{len(images_uint8)} generated images; the digits metrics need at least {num_valid} (the "
                       f"size of the valid split), and {num_train} for the train-split FID")
    result = digits_eval.evaluate(images_uint8[:num_valid], net, reference_features=ref["valid"])
    fake = digits_eval.predict(net, images_uint8[:num_train])[0]
    train = ref["train"][0]
    result["fid_train"] = _fid(fake, train) if len(fake) == num_train else None
    result["kid"], result["kid_std"] = _kid(fake, train, train)
    result["kid_valid"], result["kid_valid_std"] = _kid(fake, ref["valid"][0], train)
    result["memorisation"] = memorisation_ratio(_standardise(fake, train), _standardise(train, train),
                                                _standardise(ref["valid"][0], train))
    result["num_fake_train"], result["num_train"] = len(fake), num_train
    result["floors"] = floors(net)
    return result


def _floor_text(floor_list, digits):
    parts = []
    for f in floor_list:
        spread = f" ± {f['std']:.{digits}f}" if f["std"] is not None else ""
        parts.append(f"{f['value']:.{digits}f}{spread} ({f['sample']}, {f['num_fake']} vs {f['num_real']})")
    return "; ".join(parts)


def format_result(r):
    """The text `studiogan-slt digits-fid` prints."""
    lines = [f"digits FID {r['fid']:.3f} ({r['num_fake']} generated vs {r['num_real']} valid images); real-vs-real "
             f"floor {_floor_text(r['floors']['fid'], 1)}"]
    if r["fid_train"] is None:
        lines.append(f"train-split FID: not computed, {r['num_fake_train']} generated images (it needs "
                     f"{r['num_train']})")
    else:
        lines.append(f"train-split FID {r['fid_train']:.3f} ({r['num_fake_train']} generated vs {r['num_train']} "
                     f"train images); real-vs-real {_floor_text(r['floors']['fid_train'], 1)}")
    lines.append(f"KID {r['kid']:.4f} ± {r['kid_std']:.4f} ({r['num_fake_train']} generated vs {r['num_train']} "
                 f"train images; mean ± std over subsets); real-vs-real {_floor_text(r['floors']['kid'], 4)}")
    lines.append(f"held-out KID {r['kid_valid']:.4f} ± {r['kid_valid_std']:.4f} ({r['num_fake_train']} generated vs "
                 f"{r['num_real']} valid images, which the generator never saw); real-vs-real "
                 f"{_floor_text(r['floors']['kid_valid'], 4)}")
    lines.append(f"memorisation ratio {r['memorisation']:.3f} (median distance to the nearest train image, "
                 f"{r['num_fake_train']} generated / {r['num_real']} valid images; below 1: closer to the training "
                 f"images than unseen digits are); real-vs-real {_floor_text(r['floors']['memorisation'], 3)}")
    lines.append(f"class histogram {r['hist']} (valid {r['reference_hist']}), total variation {r['hist_tv']:.3f}, "
                 f"{r['classes_covered']}/10 classes")
    return "\n".join(lines)
