"""YAML read the way trainers read it (PyYAML ``safe_load``), with positions.

Values come from PyYAML's own SafeLoader constructor, so ``yes`` is True and
``2e-4`` is a string, exactly as Axolotl, LLaMA-Factory and TRL see them.
Positions come from the composed node tree.

The block-style configs most projects write are read by ``yamlblock`` instead, which gives
the same values and positions without importing PyYAML; anything else comes here.
"""

from __future__ import annotations

from gemma_doctor.records import record

# A YAML "billion laughs" document is tiny but expands to a huge tree when
# walked; stop walking long before that hurts.
MAX_NODES = 200_000


@record(slots=True)
class YamlDocument:
    value: object
    positions: dict[tuple, tuple[int, int]]

    def position(self, path: tuple) -> tuple[int | None, int | None]:
        return self.positions.get(path, (None, None))


def parse_yaml(text: str) -> YamlDocument:
    from gemma_doctor.yamlblock import read_block_yaml

    block = read_block_yaml(text)
    if block is not None:
        return YamlDocument(*block)
    return parse_yaml_with_pyyaml(text)


def parse_yaml_with_pyyaml(text: str) -> YamlDocument:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        try:
            node = loader.get_single_node()
            if node is None:
                return YamlDocument(None, {})
            value = loader.construct_document(node)
            positions: dict[tuple, tuple[int, int]] = {(): (node.start_mark.line + 1, node.start_mark.column + 1)}
            budget = [MAX_NODES]
            _walk(loader, node, (), positions, budget)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ValueError(f"invalid YAML: {_one_line(exc)}") from None
    except RecursionError:
        raise ValueError("YAML nested too deeply") from None
    return YamlDocument(value, positions)


def _walk(loader, node, path: tuple, positions: dict, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(
            f"YAML has more than {MAX_NODES:,} nodes once aliases are expanded (an alias bomb, or "
            "far too large for a training config)"
        )
    if node.id == "mapping":
        for key_node, value_node in node.value:
            if key_node.id != "scalar":
                continue
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                continue
            child = path + (key,)
            positions.setdefault(child, (key_node.start_mark.line + 1, key_node.start_mark.column + 1))
            _walk(loader, value_node, child, positions, budget)
    elif node.id == "sequence":
        for index, item in enumerate(node.value):
            child = path + (index,)
            positions.setdefault(child, (item.start_mark.line + 1, item.start_mark.column + 1))
            _walk(loader, item, child, positions, budget)


def _one_line(exc: Exception) -> str:
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} at line {mark.line + 1} column {mark.column + 1}"
    return " ".join(str(exc).split())
