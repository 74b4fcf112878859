"""The `SLT:` section of a StudioGAN YAML: its values, their validation, and the defaults a run fills in."""
