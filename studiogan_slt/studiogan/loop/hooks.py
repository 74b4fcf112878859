"""The hooks that turn StudioGAN's own trainer into an SLT trainer, by replacing module attributes at run time.

- config.Configurations._overwrite_cfgs: registers the validated `SLT` section next to DATA/MODEL/... (so StudioGAN
  logs it), applies the adversarial search's settings (section/search_defaults.py), and turns
  StudioGAN's own config errors into one-line SLTErrors;
- config.Configurations.check_compatability: its assertion messages become one-line SLTErrors too;
- models.model.load_generator_discriminator: converts G (and G_ema identically, and D when targeted) in place right
  after StudioGAN builds them, i.e. before its optimizers, checkpoint loading and DDP wrapping (loader.py:212-287);
- utils.misc.calculate_all_sn: a version that works on parametrized spectral-norm layers;
- utils.misc.save_model: checkpoint files written atomically, the previous set kept until the new one is complete
  (run_files.py);
- loader.WORKER: the SLT worker (moment-matching modes, DDP score check, exact resume).

`install` can be called again (a second in-process run, a DDP child): every wrapper wraps StudioGAN's original.
"""
import logging

from studiogan_slt.errors import SLTError
from studiogan_slt.studiogan import run_files
from studiogan_slt.studiogan.host.compat import original, wrapping
from studiogan_slt.studiogan.section import search_defaults
from studiogan_slt.studiogan.section.values import STYLEGAN_BACKBONES, convert_options, masks_generator
from studiogan_slt.supermask.convert import convert
from studiogan_slt.ticket.report import report

_log = logging.getLogger(__name__)


def install(sg, slt, run_checks=None):
    """Apply every hook for one run; `sg` maps StudioGAN module names to modules, `slt` is slt_section.load()'s
    dict.

    run_checks(cfgs), if given, runs right after StudioGAN's own checks, before main.py:158 creates the -save
    folders, so a run that is going to fail leaves nothing behind.
    """
    install_config(sg["config"], sg["utils.misc"], slt, run_checks)
    model = sg["models.model"]
    model.load_generator_discriminator = wrapping(original(model.load_generator_discriminator),
                                                   _converting(original(model.load_generator_discriminator), slt))
    sg["utils.misc"].calculate_all_sn = wrapping(original(sg["utils.misc"].calculate_all_sn),
                                                  _spectral_norms(sg["utils.misc"]))
    # Imported here: search_worker imports StudioGAN's own worker.py, which is importable only once
    # locate.activate() has put StudioGAN's src/ on sys.path.
    from studiogan_slt.studiogan.loop.search_worker import SLTWorker

    sg["utils.misc"].save_model = run_files.save_model  # worker.py:965-978 looks it up at every call

    sg["loader"].WORKER = SLTWorker  # loader.py:29 bound the name with `from worker import WORKER`


def install_config(config_module, misc, slt, run_checks=None):
    cls = config_module.Configurations
    overwrite, check = original(cls._overwrite_cfgs), original(cls.check_compatability)

    def _overwrite_cfgs(self, cfg_file):
        # The SLT values were validated before StudioGAN was imported (slt_section.load); registering the namespace in
        # super_cfgs makes StudioGAN parse `SLT:` itself (config.py:400-409) and dump it to the run log
        # (loader.py:114-116). The validated values are set again afterwards because validation fills defaults.
        self.SLT = misc.make_empty_object()
        vars(self.SLT).update(slt)
        self.super_cfgs["SLT"] = self.SLT
        try:
            overwrite(self, cfg_file)
        except KeyError as err:  # config.py:404, a top-level section StudioGAN does not know
            raise SLTError(f"-cfg {cfg_file}: unknown section {err.args[0]!r}; allowed sections: "
                           f"{', '.join(self.super_cfgs)}") from None
        except AttributeError as err:  # config.py:408, an unknown key (or an empty section: None.items())
            raise SLTError(f"-cfg {cfg_file}: {err}") from None
        vars(self.SLT).update(slt)
        # logged by the worker, which has StudioGAN's logger (SLTWorker.__init__)
        self.slt_search_changes = search_defaults.apply(self, slt)

    def check_compatability(self):
        try:
            check(self)
        except AssertionError as err:  # config.py:630-876 states every incompatibility as an assertion message
            raise SLTError(f"incompatible settings: {' '.join(str(err).split())}") from None
        if run_checks is not None:
            run_checks(self)

    cls._overwrite_cfgs = wrapping(overwrite, _overwrite_cfgs)
    cls.check_compatability = wrapping(check, check_compatability)


def _converting(load_generator_discriminator, slt):
    def wrapper(DATA, OPTIMIZATION, MODEL, STYLEGAN, MODULES, RUN, device, logger):
        built = load_generator_discriminator(DATA, OPTIMIZATION, MODEL, STYLEGAN, MODULES, RUN, device, logger)
        Gen, Dis, Gen_ema = built[0], built[3], built[4]
        if masks_generator(slt):
            convert_models(Gen, Gen_ema, Dis, slt, logger, MODEL.backbone)
        return built

    return wrapper


def convert_models(Gen, Gen_ema, Dis, slt, logger, backbone):
    """Convert in place, so every alias StudioGAN holds (Gen.mapping/.synthesis, ema.source/.target) stays valid."""
    import warnings

    k, options = slt["k"], convert_options(slt)
    if backbone in STYLEGAN_BACKBONES and not (options["rescale"] or options["scaled"]):
        _warn(logger, "StyleGAN has no BatchNorm: without SLT rescale (or scaled) the masked signal collapses "
                      "(README.md, 'Things to know about StudioGAN models'); consider `rescale: true`")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if "G" in slt["targets"]:
            convert(Gen, k, **options)
            _same_on_every_rank(Gen)
            if Gen_ema is not None:
                convert(Gen_ema, k, **options)
                Gen_ema.load_state_dict(Gen.state_dict())  # identical scores, frozen tensors and statistics
        if "D" in slt["targets"]:
            convert(Dis, k, **convert_options(slt, "D"))
            _same_on_every_rank(Dis)
    for w in {str(w.message) for w in caught}:  # e.g. StudioGAN's zeroed biases (ops.py:135-162)
        _warn(logger, f"SLT: {w}")
    for name in slt["targets"]:
        dead = _closed_attention_gates(Gen if name == "G" else Dis)
        if dead:
            _warn(logger, f"SLT: {name}'s self-attention blocks {', '.join(dead)} stay identities: their output "
                          "gate sigma starts at 0 (StudioGAN ops.py:81) and is frozen there, so their masks get "
                          "no gradient")
    if logger is not None:
        for name in slt["targets"]:
            logger.info(f"SLT ticket of {name} (k={k}):\n{report(Gen if name == 'G' else Dis)}")


def _closed_attention_gates(model):
    """Names of StudioGAN SelfAttention blocks whose frozen gate is 0: ops.py:103 returns x + sigma * attention."""
    return [name for name, m in model.named_modules()
            if type(m).__name__ == "SelfAttention" and hasattr(m, "sigma") and not m.sigma.any()]


def _same_on_every_rank(module):
    """Under DDP every rank builds its model from its own seed (loader.py:99 seeds with seed + rank) and relies on
    DDP's construction-time broadcast of *parameters* to agree. The frozen tensors are buffers now, and StudioGAN
    wraps with broadcast_buffers=False (model.py:168-180), so they would stay rank-local: each rank would train
    scores over different weights. Broadcast rank 0's buffers once, right after conversion."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        for buffer in module.buffers():
            dist.broadcast(buffer, src=0)


def _warn(logger, message):
    (logger or _log).warning(message)


def _spectral_norms(misc):
    """misc.py:285-298 finds spectral-normed layers by parameter *names* containing `weight_orig` and then walks
    attributes by that name; a parametrized `weight_orig` is named `...parametrizations.weight_orig.0.scores` and
    the walk fails. Walk the modules instead; `module.weight_orig` is then the masked tensor SN normalises."""
    import torch

    def calculate_all_sn(model, prefix):
        sigmas = {}
        with torch.no_grad():
            for name, module in model.named_modules():
                if hasattr(module, "weight_u") and hasattr(module, "weight_v") and hasattr(module, "weight_orig"):
                    w = misc.reshape_weight_to_matrix(module.weight_orig)
                    sigma = torch.dot(module.weight_u, torch.mv(w, module.weight_v)).item()
                    sigmas[f"{prefix}_{name}.weight_orig"] = sigma
        return sigmas

    return calculate_all_sn
