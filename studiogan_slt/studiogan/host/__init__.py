"""Setting up the host: finding the checkout, the fixes that let it run here, wandb, its command line."""
