"""Grids of StudioGAN runs (`studiogan-slt sweep`): plan.py makes the points, point.py runs one point's steps as
CLI subprocesses, launchers.py says where (here, or submitit for SLURM), run.py schedules them and summarises."""
