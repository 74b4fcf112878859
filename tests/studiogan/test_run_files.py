"""run_files on its own (no StudioGAN): a resume settles a folder that a kill left mid-save."""
import os
import signal

import torch

from studiogan_slt.studiogan import run_files


def _killed_while_writing(folder, step):
    """Fork a save of G at `step` that SIGKILLs itself halfway through writing the file, as a kill does."""
    pid = os.fork()
    if pid == 0:
        def half_then_die(states, path):
            with open(path, "wb") as f:
                f.write(b"\0" * 4096)
                f.flush()
                os.kill(os.getpid(), signal.SIGKILL)

        torch.save = half_then_die
        run_files.save_model("G", run_files.CURRENT, step, folder, {"state_dict": {}})
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status)


def test_a_resume_removes_what_a_save_killed_while_writing_left(tmp_path):
    state = {"state_dict": {"w": torch.zeros(2)}, "optimizer": {}, "run_name": "run", "step": 2}
    for model in ("G", "D"):
        run_files.save_model(model, run_files.CURRENT, 2, str(tmp_path), state)
    run_files.commit(str(tmp_path), run_files.CURRENT, 2, {"generators": {}, "sampler": None})
    (tmp_path / "notes.txt").write_text("the user's")
    _killed_while_writing(str(tmp_path), 4)
    left = [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]
    assert len(left) == 1 and left[0].startswith(".model=G-current-weights-step=4.pth.")

    assert run_files.check(str(tmp_path), run_files.CURRENT) == 2
    assert sorted(os.listdir(tmp_path)) == ["model=D-current-weights-step=2.pth", "model=G-current-weights-step=2.pth",
                                            "model=RESUME-current-weights-step=2.pth", "notes.txt"]
