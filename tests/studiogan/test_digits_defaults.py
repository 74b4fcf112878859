"""What a first run on the built-in digits needs without a separate step (no StudioGAN import): the DIGITS flag
defaults and the data set in the user cache, the built-in extractor name trained on first use, the pinned StudioGAN
clone made when none is found, and the progress line's speed and ETA."""
import subprocess

import pytest
import torch
import yaml
from click.testing import CliRunner

from studiogan_slt.cli import main
from studiogan_slt.data import digits
from studiogan_slt.errors import SLTError
from studiogan_slt.metrics import digits_net
from studiogan_slt.moments import extractors
from studiogan_slt.studiogan.host import locate
from studiogan_slt.studiogan.section import digits_defaults
from studiogan_slt.studiogan.loop.progress import Progress
from tests.studiogan.test_locate import _fake_checkout, _git


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.delenv(locate.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "studiogan-slt"


def _cfg(path, name="DIGITS", steps=800):
    path.write_text(yaml.safe_dump({"DATA": {"name": name}, "OPTIMIZATION": {"total_steps": steps}}))
    return path


def test_digits_flags_left_out_are_filled_in_and_the_data_set_is_made_once(cache, tmp_path):
    lines = []
    argv = digits_defaults.fill_in(["-cfg", "x", "-save", "s"], _cfg(tmp_path / "d.yaml"), "train", lines.append)
    data = digits.cached()
    assert argv == ["-cfg", "x", "-save", "s", "-data", str(data), "-metrics", "none", "--num_workers", "1",
                    "--save_freq", "200"]
    assert sorted(p.name for p in (data / "valid").iterdir()) == [str(c) for c in range(10)]
    assert lines[0].startswith("writing the built-in digits data set") and len(lines) == 2
    again = []
    digits_defaults.fill_in(["-cfg", "x"], tmp_path / "d.yaml", "train", again.append)
    assert not any("writing" in line for line in again)  # cached
    # StudioGAN refuses a save_freq its print_freq does not divide: 100 steps save once, at print_freq 100
    short = digits_defaults.fill_in([], _cfg(tmp_path / "s.yaml", steps=100), "train", print)
    assert short[-2:] == ["--save_freq", "100"]
    assert digits_defaults.fill_in(["--print_freq", "10"], tmp_path / "s.yaml", "train", print)[-2:] == [
        "--save_freq", "30"]


def test_flags_the_user_gives_win_and_other_data_is_left_alone(cache, tmp_path, monkeypatch):
    monkeypatch.setattr(digits, "cached", lambda log: cache / "digits")
    given = ["-metrics", "fid", "--num_workers=4", "--save_freq", "7"]
    assert digits_defaults.fill_in(given, _cfg(tmp_path / "d.yaml"), "train", print) == [
        *given, "-data", str(cache / "digits")]
    # eval needs only the data; its metrics are the user's choice
    assert digits_defaults.fill_in([], tmp_path / "d.yaml", "eval", print) == ["-data", str(cache / "digits")]
    # with -data given, StudioGAN's own defaults, as for any data set
    assert digits_defaults.fill_in(["--data_dir=mine"], tmp_path / "d.yaml", "train", print) == ["--data_dir=mine"]
    assert digits_defaults.fill_in([], _cfg(tmp_path / "c.yaml", name="CIFAR10"), "train", print) == []
    assert not cache.exists()


def test_the_builtin_extractor_is_trained_on_first_use_then_reused(cache, monkeypatch):
    trained = []

    def fast_training(path, log):
        trained.append(path)
        torch.save(digits_net.digits_cnn().state_dict(), path)
        return {"valid_accuracy": 0.5, "seconds": 0.0}

    monkeypatch.setattr(digits_net, "train_digits_cnn", fast_training)
    spec = extractors.parse_spec(digits_net.BUILTIN)
    assert spec["network"] == digits_net.NETWORK and spec["weights"] == str(digits_net.cached_weights_path())
    assert trained == [digits_net.cached_weights_path()]
    extractors.FeatureExtractor([digits_net.BUILTIN])  # loads the cached weights strictly
    assert len(trained) == 1


def test_a_first_train_without_a_checkout_clones_the_pinned_commit_saying_so(cache, tmp_path, monkeypatch):
    upstream = _fake_checkout(tmp_path / "upstream")
    _git("init", "-q", cwd=upstream)
    _git("add", ".", cwd=upstream)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "pinned", cwd=upstream)
    monkeypatch.setattr(locate, "REPO_URL", upstream.as_uri())
    monkeypatch.setattr(locate, "PINNED_COMMIT", subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=upstream, capture_output=True, text=True).stdout.strip())
    lines = []
    root = locate.find_root(fetch_missing=True, log=lines.append)
    assert root == locate.pinned_clone_dir().resolve() and (root / "src" / "main.py").is_file()
    assert len(lines) == 1 and lines[0].startswith("no PyTorch-StudioGAN checkout found: cloning ")
    assert locate.find_root(fetch_missing=True, log=lines.append) == root and len(lines) == 1
    with pytest.raises(SLTError):  # commands other than train/eval still only say how
        monkeypatch.setattr(locate, "pinned_clone_dir", lambda: tmp_path / "elsewhere")
        locate.find_root()


def test_offline_the_first_train_stops_with_one_line(cache, tmp_path, monkeypatch):
    # No network in the tests: an unreachable repository stands in for github.com offline.
    monkeypatch.setattr(locate, "REPO_URL", (tmp_path / "no-such-repository").as_uri())
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"DATA": {"name": "CIFAR10"}, "SLT": {"k": 0.1}}))
    result = CliRunner().invoke(main, ["train", "-cfg", str(cfg), "-save", str(tmp_path / "runs")])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: no PyTorch-StudioGAN checkout found and fetching StudioGAN failed (")
    assert "--studiogan-root" in result.stderr and "STUDIOGAN_ROOT" in result.stderr
    assert result.stdout.startswith("no PyTorch-StudioGAN checkout found: cloning ")
    assert not locate.pinned_clone_dir().exists() and not (tmp_path / "runs").exists()


def test_progress_line_says_speed_and_time_left():
    clock = iter([100.0, 150.0, 250.0])
    p = Progress(clock=lambda: next(clock))
    assert p.line(100, 100000) == "progress: step 100/100000; speed and ETA from the next line on"
    assert p.line(200, 100000) == "progress: step 200/100000, 2.00 steps/s, ETA 13h51m"  # 99,800 steps at 2/s
    assert p.line(800, 800) == "progress: step 800/800, 4.67 steps/s, ETA 0m00s"
