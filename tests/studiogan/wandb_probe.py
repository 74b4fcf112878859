"""Installed in the driver process (driver.py's "call" job) before a run: after every generator step, the SLT worker
logs {"SLT/probe_step": step} through studiogan_slt.studiogan.host.wandb_log.log_to_wandb, as the plugin's own search
diagnostics do, so the test can find the plugin's numbers in the same wandb run as StudioGAN's."""
from studiogan_slt.studiogan.loop import hooks
from studiogan_slt.studiogan.host.wandb_log import log_to_wandb


def install():
    original = hooks.install

    def install_with_probe(sg, slt, run_checks=None):
        original(sg, slt, run_checks)
        worker = sg["loader"].WORKER

        def train_generator(self, current_step):
            loss = worker.train_generator(self, current_step)
            log_to_wandb({"SLT/probe_step": current_step}, step=current_step + 1)  # StudioGAN's wandb step
            return loss

        sg["loader"].WORKER = type("ProbedWorker", (worker,), {"train_generator": train_generator})

    hooks.install = install_with_probe
    return True
