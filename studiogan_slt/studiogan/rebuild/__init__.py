"""A run turned back into a model: the ticket's builder and sampler, the run's generator, export, its report."""
