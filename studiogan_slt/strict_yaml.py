"""YAML that refuses a key given twice in one mapping.

PyYAML keeps the last value of a repeated key without a word: a second OPTIMIZATION block appended to a config
replaces the first one whole, and StudioGAN trains with values the user never sees. The plugin reads every YAML
with this loader; it is PyYAML's FullLoader otherwise, the one StudioGAN reads the same file with (config.py:402).
"""
import yaml


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


def load(stream):
    return yaml.load(stream, Loader=_Loader)
