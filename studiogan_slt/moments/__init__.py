"""GFMN moment matching in plain PyTorch: frozen feature extractors, streaming real statistics, the AMA loss."""
