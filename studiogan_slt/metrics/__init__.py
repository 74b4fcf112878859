"""Evaluation on the digits data: the small digits network (also a moment-matching extractor) and FID with it."""
