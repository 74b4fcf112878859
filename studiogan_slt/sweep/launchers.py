"""Where a point runs: in a subprocess of this machine (local) or as a submitit job (SLURM, or submitit's local
executor, which runs the same job code as SLURM would, for trying the path without a cluster)."""
import threading
from dataclasses import dataclass
from pathlib import Path

from studiogan_slt.errors import SLTError
from studiogan_slt.sweep.point import run_point

LAUNCHERS = ("local", "slurm", "submitit-local")


@dataclass(frozen=True)
class Resources:
    """What one point gets from SLURM: StudioGAN's -DDP uses every GPU of the job (one task per point)."""
    partition: str = None
    minutes: int = 240
    gpus: int = 1
    cpus: int = 8


def local():
    return run_point


def submitit_launcher(kind, folder, resources):
    """A function that submits one point as a submitit job and waits for its done record."""
    try:
        import submitit
    except ImportError:
        raise SLTError(f"--launcher {kind} needs submitit: pip install 'studiogan-slt[slurm]'") from None
    executor = submitit.AutoExecutor(folder=str(Path(folder) / "%j"), cluster="slurm" if kind == "slurm" else "local")
    params = {"timeout_min": resources.minutes, "nodes": 1, "tasks_per_node": 1,
              "cpus_per_task": resources.cpus, "gpus_per_node": resources.gpus}
    if kind == "slurm" and resources.partition:
        params["slurm_partition"] = resources.partition
    executor.update_parameters(**params)
    lock = threading.Lock()  # the job name is an executor parameter, and --jobs lanes submit concurrently

    def launch(job):
        with lock:
            executor.update_parameters(name=job.point.name)
            submitted = executor.submit(run_point, job)
        try:
            return submitted.result()
        except submitit.core.utils.UncompletedJobError as err:  # failed, timed out or preempted
            # The job's traceback ends with run_point's SLTError, which names the step and the point's log.
            last = [line for line in str(err).splitlines() if line.strip()]
            raise SLTError(f"point {job.point.name}: submitit job {submitted.job_id} failed: "
                           f"{last[-1] if last else err}") from None

    return launch


def make(kind, folder, resources):
    if kind == "local":
        return local()
    return submitit_launcher(kind, folder, resources)
