"""Export the generator of a StudioGAN SLT run: as a ticket, or as a dense checkpoint folder that unmodified
StudioGAN reads."""
import shutil
from pathlib import Path

from studiogan_slt import atomic
from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.rebuild import builder, generator
from studiogan_slt.studiogan.section.values import convert_options
from studiogan_slt.supermask.convert import materialize
from studiogan_slt.ticket.save_load import save_ticket

def export_ticket(ckpt_dir, output, best=False, studiogan_root=None, tier="auto", values_dtype="float32"):
    atomic.check_writable_file(output)
    return save_run_ticket(*generator.converted_generator(ckpt_dir, best, studiogan_root), output, tier, values_dtype)


def save_run_ticket(G, sections, path, run, output, tier="auto", values_dtype="float32"):
    """The ticket of converted_generator's result (G, sections, path, run) written to `output`."""
    try:
        return save_ticket(G, output, tier=tier, values_dtype=values_dtype,
                           **builder.ticket_options(sections, path, run))
    except OSError as e:
        raise SLTError(f"-o {output}: cannot write the ticket ({e.strerror or e})") from None
    except ValueError as e:
        if tier == "auto":
            raise
        # a tier the run's frozen weights cannot be stored in, e.g. seeded for the host's own init
        raise SLTError(f"--tier {tier}: {e}") from None


def export_dense(ckpt_dir, output, best=False, studiogan_root=None):
    """A checkpoint folder with G (and G_ema, D) as plain StudioGAN checkpoints, masks baked in (w * mask)."""
    out = Path(output)
    atomic.check_new_folder(out)
    sections, files, run = generator.read_run(ckpt_dir, best)
    sg = builder.studiogan(studiogan_root)
    slt = sections["SLT"]
    with atomic.new_folder(out) as tmp:
        for kind, path in files.items():
            if path is None:
                continue
            ckpt = run_files.load(path)
            if kind == "D" and "D" not in slt["targets"]:
                shutil.copyfile(path, tmp / path.name)  # unmasked: already what StudioGAN expects
                continue
            Gen, Dis = builder.build(sg, sections)
            target = "D" if kind == "D" else "G"  # G_ema is converted like G
            model = generator.converted(Dis if target == "D" else Gen, path, ckpt, slt["k"],
                               convert_options(slt, target))
            # StudioGAN reads run_name, seed, step, best_fid ... from D's file (ckpt.py:83-84, 46-72); the
            # optimizer state is that of the scores, which a dense model does not have.
            kept = {key: v for key, v in ckpt.items() if key != "optimizer"}
            atomic.torch_save(dict(kept, state_dict=materialize(model).state_dict()), tmp / path.name)
    return out
