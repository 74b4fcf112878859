"""A sweep's YAML that is not text, or whose SLT values are YAML alias bombs: one line, at once, in bounded memory
(the loader measures the expansion without building it, strict_yaml)."""
import time

import pytest

from studiogan_slt.errors import SLTError
from studiogan_slt.sweep.plan import plan

BOMB = "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 10))


def test_a_binary_file_is_one_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(SLTError, match="not a YAML file"):
        plan(cfg, [0.1], [0])


@pytest.mark.parametrize("key", ["k", "targets"])
def test_an_alias_bomb_in_the_slt_section_is_one_short_line(tmp_path, key):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"l0: &l0 [x]\n{BOMB}SLT:\n  {key}: *l9\n")
    start = time.time()
    with pytest.raises(SLTError, match="stands for more than 100,000 values") as refused:
        plan(cfg, [0.1], [0])
    assert len(str(refused.value)) < 400 and "\n" not in str(refused.value)
    assert time.time() - start < 30
