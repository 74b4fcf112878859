"""Everything that touches PyTorch-StudioGAN, and nothing else. Imports point down this list:

run_files  StudioGAN's run on disk: folders, checkpoint files, best/current, atomic saves, the logged config
host/      the checkout (locate), CPU and torch-2.x fixes (compat), wandb, StudioGAN's command line (argv)
section/   the `SLT:` section: what its values mean, validation, the moments options, search and digits defaults
rebuild/   a run back as a model: the ticket's builder and sampler, the run's generator, export, the ticket report
loop/      inside StudioGAN's loop: the hooks that patch it, the WORKER subclass, moment matching, the digits metric
preflight, summary, launch   the entry: checks before StudioGAN writes anything, the end-of-run summary, the run
No StudioGAN file is copied or edited; see patches/README.md.
"""
