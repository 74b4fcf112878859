"""Everything that touches PyTorch-StudioGAN, and nothing else.

locate (find/fetch a checkout) -> compat (CPU and torch-2.x fixes) -> slt_section (the SLT: section) -> hooks (patch
StudioGAN's module attributes) -> search_worker (the WORKER subclass) -> launch (train/eval entry, DDP children).
No StudioGAN file is copied or edited; see patches/README.md.
"""
