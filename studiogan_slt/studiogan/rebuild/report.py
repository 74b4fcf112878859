"""The ticket report of a checkpoint: what the ticket exported from it would keep, and its size."""
from studiogan_slt.studiogan.rebuild import builder, generator
from studiogan_slt.ticket import sample
from studiogan_slt.ticket.report import report

def checkpoint_report(ckpt_dir, best=False, studiogan_root=None):
    G, sections, path, run = generator.converted_generator(ckpt_dir, best, studiogan_root)
    options = builder.ticket_options(sections, path, run)
    args, kwargs = sample.example_inputs(sample.check_sampler(options["sampler"]))
    return report(G, args, kwargs, ticket_options=options)
