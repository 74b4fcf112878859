"""Evaluation on the digits data: the small digits network (also a moment-matching extractor), FID with it, the
train-split FID and KID, each with its real-vs-real floor."""
