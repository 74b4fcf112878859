"""YAML that refuses a key given twice in one mapping, and a document that stands for too many values.

PyYAML keeps the last value of a repeated key without a word: a second OPTIMIZATION block appended to a config
replaces the first one whole, and StudioGAN trains with values the user never sees. An alias of aliases (a "YAML
bomb": ten lists of ten aliases of the list before) is a few hundred bytes that PyYAML loads as shared objects, but
that StudioGAN copies and prints value by value (its config is logged whole): memory runs out inside StudioGAN,
after -save was made. The plugin reads every YAML with this loader, before StudioGAN sees the file; it is PyYAML's
FullLoader otherwise, the one StudioGAN reads the same file with (config.py:402).
"""
import yaml

# far more values than any StudioGAN config holds (a few hundred), far fewer than a bomb expands to
MAX_VALUES = 100_000


class DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class _Loader(yaml.FullLoader):
    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            first = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *anchor` merges, it is not a key
                    continue
                key = self.construct_object(key_node, deep=deep)
                try:
                    seen = first.setdefault(key, key_node)
                except TypeError:  # an unhashable key: PyYAML's own error below says so
                    continue
                if seen is not key_node:
                    raise DuplicateKeyError(
                        None, None, f"duplicate key {key!r} (first given at line {seen.start_mark.line + 1})",
                        key_node.start_mark)
        return super().construct_mapping(node, deep)


class ExpansionError(yaml.YAMLError):
    pass


def _expanded(value, sizes):
    """How many values `value` stands for with its aliases written out, capped just past MAX_VALUES; a shared
    object is counted at each reference from the memo `sizes`, so a bomb is measured without being expanded, and one
    that contains itself counts as too many."""
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set)):
        children = value
    else:
        return 1
    if id(value) in sizes:
        return sizes[id(value)]
    sizes[id(value)] = MAX_VALUES + 1  # still being counted: met again, it contains itself
    total = 1
    for child in children:
        total += _expanded(child, sizes)
        if total > MAX_VALUES:
            break
    sizes[id(value)] = min(total, MAX_VALUES + 1)
    return sizes[id(value)]


def load(stream):
    data = yaml.load(stream, Loader=_Loader)
    if _expanded(data, {}) > MAX_VALUES:
        raise ExpansionError(f"the document stands for more than {MAX_VALUES:,} values once its aliases are written "
                             "out (aliases of aliases, or an alias inside itself)")
    return data
