"""The registry of ticket builders: how a ticket's header may rebuild its (plain) generator without running code the
file chooses.

A header's "architecture" is {"builder": NAME, "kwargs": {...}}. NAME is a key of BUILDERS, the one table of
builders a ticket may name; each entry is the "module:attribute" of a function, imported only when a ticket names
it (so the ticket package never imports an adapter, or its host, at import time), whose `schema` attribute says
what its kwargs may be. The kwargs are plain JSON data and are checked against that schema before the function is
called, so nothing read from a file is ever imported or called by name.

A user's own builder (`save_ticket(..., builder=my_module.my_function)` or "module:function") is stored as that
import path; loading such a ticket imports and runs it, so it happens only when the caller trusts the file
(`trust_builder=True`, CLI `--trust-builder`); otherwise pass the plain model (`load_ticket(path, model=...)`).

Schemas are plain data: "scalar" (str, finite number, bool, null), "scalars" (a scalar or a list of them, nested
lists allowed), {"one_of": [values]}, {"int": [low, high]} (an integer in that range, which bounds what building
allocates), {"any_of": [schemas]}, or an object {"fields": {key: schema}, "optional": {key: schema}, "other": schema or None}: every key of
"fields" is required, one of "optional" must match its schema when given, and any other key must match "other"
(None: no other key allowed) and be a plain name (a letter, then letters, digits and "_"; never "__class__").
"""
import importlib
import math
import re

from studiogan_slt.errors import shown

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")

BUILDERS = {
    # rebuilds a StudioGAN generator from a checkout and the run's DATA/MODEL/STYLEGAN values
    "studiogan": "studiogan_slt.studiogan.rebuild.builder:build_generator",
}


def _import(target):
    module_name, _, attr = target.partition(":")
    value = importlib.import_module(module_name)
    for part in attr.split("."):
        value = getattr(value, part)
    return value


def schema_problem(value, schema, where="kwargs"):
    """None when `value` matches `schema`, else a short description of the first mismatch."""
    if schema == "scalar":
        ok = value is None or isinstance(value, (str, bool, int)) or isinstance(value, float) and math.isfinite(value)
        return None if ok else f"{where} must be a string, finite number, boolean or null"
    if schema == "scalars":
        if isinstance(value, list):
            return next(filter(None, (schema_problem(v, "scalars", f"{where}[{i}]") for i, v in enumerate(value))),
                        None)
        return schema_problem(value, "scalar", where)
    if "one_of" in schema:
        allowed = schema["one_of"]
        ok = any(type(value) is type(a) and value == a for a in allowed)
        return None if ok else f"{where} must be one of {', '.join(map(str, allowed))}; got {shown(value)}"
    if "any_of" in schema:
        problems = [schema_problem(value, sub, where) for sub in schema["any_of"]]
        return None if None in problems else " or ".join(problems)
    if "int" in schema:
        low, high = schema["int"]
        ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
        return None if ok else f"{where} must be an integer from {low} to {high}; got {shown(value)}"
    if not isinstance(value, dict):
        return f"{where} must be an object"
    for key, sub in schema["fields"].items():
        if key not in value:
            return f"{where}.{key} is missing"
    optional = {**schema.get("optional", {}), **schema["fields"]}
    for key in sorted(value, key=str):
        plain = isinstance(key, str) and _NAME.fullmatch(key)
        name = f"{where}.{key}" if plain and len(key) <= 60 else f"{where}[{shown(key)}]"
        if key not in optional and (schema.get("other") is None or not plain):
            return f"{name} is not allowed"
        problem = schema_problem(value[key], optional.get(key, schema.get("other")), name)
        if problem:
            return problem
    return None


def registered_name(builder):
    """The registry name of a builder given as a name, a "module:function" string or a function; None if it is a
    user's own builder."""
    if isinstance(builder, str):
        return builder if builder in BUILDERS else next((n for n, t in BUILDERS.items() if t == builder), None)
    return next((n for n, t in BUILDERS.items() if t == f"{builder.__module__}:{builder.__qualname__}"), None)


def check_kwargs(name, kwargs):
    """Raise ValueError when `kwargs` do not match the schema of registered builder `name`."""
    problem = schema_problem(kwargs, _import(BUILDERS[name]).schema)
    if problem:
        raise ValueError(f"the arguments of builder {name!r} are invalid: {problem}")


def resolve(builder, kwargs, trust_builder):
    """The function to call for a header's builder and kwargs. Raises ValueError (a name that is not registered,
    kwargs that fail the schema) or PermissionError (an import path, without trust_builder)."""
    if builder in BUILDERS:
        check_kwargs(builder, kwargs)
        return _import(BUILDERS[builder])
    if ":" not in builder:
        raise ValueError(f"builder {builder!r} is not registered; registered builders: {', '.join(BUILDERS)}")
    if not trust_builder:
        raise PermissionError(f"the ticket rebuilds its generator with the code at {builder!r}, which loading would "
                              "import and run; if you trust this file pass trust_builder=True (CLI: "
                              "--trust-builder), or pass the plain generator as model=")
    return _import(builder)
