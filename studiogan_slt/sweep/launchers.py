"""Where a point runs: in a subprocess of this machine (local) or as a submitit job (SLURM, or submitit's local
executor, which runs the same job code as SLURM would, for trying the path without a cluster)."""
import threading
from dataclasses import dataclass
from pathlib import Path

from studiogan_slt.errors import SLTError
from studiogan_slt.sweep.point import run_point, stop_steps

@dataclass(frozen=True)
class Resources:
    """What one point gets from SLURM: StudioGAN's -DDP uses every GPU of the job (one task per point)."""
    partition: str = None
    minutes: int = 240
    gpus: int = 1
    cpus: int = 8


class Local:
    """Each point in this process's threads; its steps are subprocesses of this sweep (Ctrl-C reaches them too)."""

    def __call__(self, job):
        return run_point(job)

    def cancel(self, signum):
        stop_steps(signum)


class Submitit:
    """Submits one point as a submitit job and waits for its done record; cancel() ends the jobs still queued or
    running, so that a stopped sweep leaves no job writing into a point that the next run would start again."""

    def __init__(self, kind, folder, resources):
        try:
            import submitit
        except ImportError:
            raise SLTError(f"--launcher {kind} needs submitit: pip install 'studiogan-slt[slurm]'") from None
        self.submitit = submitit
        self.executor = submitit.AutoExecutor(folder=str(Path(folder) / "%j"),
                                              cluster="slurm" if kind == "slurm" else "local")
        params = {"timeout_min": resources.minutes, "nodes": 1, "tasks_per_node": 1,
                  "cpus_per_task": resources.cpus, "gpus_per_node": resources.gpus}
        if kind == "slurm" and resources.partition:
            params["slurm_partition"] = resources.partition
        self.executor.update_parameters(**params)
        self.lock = threading.Lock()  # the job name is an executor parameter, and --jobs lanes submit concurrently
        self.jobs = []

    def __call__(self, job):
        with self.lock:
            self.executor.update_parameters(name=job.point.name)
            submitted = self.executor.submit(run_point, job)
            self.jobs.append(submitted)
        try:
            return submitted.result()
        except self.submitit.core.utils.UncompletedJobError as err:  # failed, timed out or preempted
            # The job's traceback ends with run_point's SLTError, which names the step and the point's log.
            last = [line for line in str(err).splitlines() if line.strip()]
            raise SLTError(f"point {job.point.name}: submitit job {submitted.job_id} failed: "
                           f"{last[-1] if last else err}") from None

    def cancel(self, signum):
        with self.lock:
            for submitted in self.jobs:
                if not submitted.done():
                    submitted.cancel(check=False)


def make(kind, folder, resources):
    return Local() if kind == "local" else Submitit(kind, folder, resources)
