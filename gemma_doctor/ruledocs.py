"""A rule's catalogue entry rendered as Markdown: for `gemma-doctor rule ID` and docs/rules/."""

from __future__ import annotations

from gemma_doctor.knowledge import applies_specifier, catalogue, expand_boundaries

_TEXT_FIELDS = ("summary", "what_it_does", "why", "example", "fix", "fix_safety_note", "applies_note", "verification")


def expanded(doc: dict) -> dict:
    """The entry with its boundaries (``[[package.fact.fixed_in]]``) written out from rules/data/versions.json."""
    return {
        key: expand_boundaries(value) if key in _TEXT_FIELDS and isinstance(value, str) else value
        for key, value in doc.items()
    }


def render_markdown(doc: dict) -> str:
    doc = expanded(doc)
    lines = [
        f"# {doc['id']} {doc['name']}",
        "",
        f"Default severity: **{doc['severity']}**. Fix safety: **{doc.get('fix_safety', 'none')}**.",
        "",
        doc["summary"].strip(),
        "",
    ]
    for title, key in (
        ("What it does", "what_it_does"),
        ("Why is this bad?", "why"),
        ("Example", "example"),
        ("Fix", "fix"),
        ("Fix safety", "fix_safety_note"),
    ):
        if doc.get(key):
            body = doc[key].rstrip()
            if key == "example":
                body = "```\n" + body + "\n```"
            lines += [f"## {title}", "", body, ""]
    applies = doc.get("applies_to") or {}
    if applies:
        lines += [
            "## Versions it applies to",
            "",
            "The engine runs the rule only when the run's version of each package below satisfies the "
            "specifier (an unknown version runs it).",
            "",
        ]
        for package, spec in applies.items():
            resolved = applies_specifier(package, spec)
            shown = f"`{resolved}` (rules/data/versions.json `{spec[5:]}`)" if spec.startswith("fact:") else f"`{spec}`"
            lines.append(f"- {package}: {shown}")
        if doc.get("applies_note"):
            lines.append(f"- {doc['applies_note']}")
        lines.append("")
    if doc.get("verification"):
        lines += ["## Evidence status", "", doc["verification"].rstrip(), ""]
    lines += ["## References", ""]
    for ref in doc.get("references", []):
        lines.append(f"- [{ref['title']}]({ref['url']})" if ref.get("url") else f"- {ref['title']}")
    return "\n".join(lines).rstrip() + "\n"


def write_pages(target) -> list:
    """docs/rules/GDxxx.md for every rule, plus docs/rules/README.md (the table)."""
    from pathlib import Path

    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    docs = catalogue()
    for rule_id, doc in docs.items():
        path = target / f"{rule_id}.md"
        path.write_text(render_markdown(doc.raw), encoding="utf-8")
        written.append(path)
    rows = [
        "# Rules",
        "",
        "Generated from `rules/*.yaml` by `python -m gemma_doctor.ruledocs`; do not edit by hand.",
        "",
        "| id | name | severity | fix | summary |",
        "|---|---|---|---|---|",
    ]
    rows += [f"| [{d.id}]({d.id}.md) | {d.name} | {d.severity} | {d.fix_safety} | {d.summary} |" for d in docs.values()]
    index = target / "README.md"
    index.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return written + [index]


if __name__ == "__main__":  # python -m gemma_doctor.ruledocs: regenerate docs/rules/
    from pathlib import Path

    for page in write_pages(Path(__file__).resolve().parent.parent / "docs" / "rules"):
        print(page)
