"""A rule's catalogue entry rendered as Markdown: for `gemma-doctor rule ID` and docs/rules/."""

from __future__ import annotations


def render_markdown(doc: dict) -> str:
    lines = [f"# {doc['id']} {doc['name']}", "", f"Default severity: **{doc['severity']}**. "
             f"Fix safety: **{doc.get('fix_safety', 'none')}**.", "", doc["summary"].strip(), ""]
    for title, key in (("What it does", "what_it_does"), ("Why is this bad?", "why"), ("Example", "example"),
                       ("Fix", "fix"), ("Fix safety", "fix_safety_note")):
        if doc.get(key):
            body = doc[key].rstrip()
            if key == "example":
                body = "```\n" + body + "\n```"
            lines += [f"## {title}", "", body, ""]
    applies = doc.get("applies_to") or {}
    if applies:
        lines += ["## Versions it applies to", ""]
        lines += [f"- {package}: `{spec}`" for package, spec in applies.items()] + [""]
    if doc.get("verification"):
        lines += ["## Evidence status", "", doc["verification"].rstrip(), ""]
    lines += ["## References", ""]
    for ref in doc.get("references", []):
        lines.append(f"- [{ref['title']}]({ref['url']})" if ref.get("url") else f"- {ref['title']}")
    return "\n".join(lines).rstrip() + "\n"
