"""The README and docs/ are a user's path: every relative link resolves (files and #anchors), and every number the
README states is carried by a generated page (a page a script writes from its runs), so no number is typed twice."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
# a generated page says which script writes it in its first lines
GENERATED = re.compile(r"^(Written|Generated) by `", re.M)
NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w.])")


def anchors(page):
    """GitHub's ids of a Markdown page's headings."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", page.read_text(), re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found


def broken_links(page):
    broken = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # a web address
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    return broken


def test_every_relative_link_resolves():
    broken = {str(page.relative_to(ROOT)): broken_links(page) for page in PAGES}
    assert not {page: links for page, links in broken.items() if links}


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "there.md").write_text("# A heading, here\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md) [ok](there.md#a-heading-here) [web](https://x.org/y) [no](gone.md) "
                    "[no](there.md#elsewhere)\n")
    assert broken_links(page) == ["gone.md", "there.md#elsewhere"]


def prose_numbers(text):
    """The numbers of a page's prose: code blocks, inline code and link targets left out."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`]*`", "", text)
    text = LINK.sub("]", text)
    return set(NUMBER.findall(text))


def test_every_number_of_the_readme_is_in_a_generated_page():
    generated = [p for p in PAGES[1:] if GENERATED.search("\n".join(p.read_text().splitlines()[:5]))]
    assert generated, "no generated page found under docs/"
    carried = set().union(*(prose_numbers(p.read_text()) | set(NUMBER.findall(p.read_text())) for p in generated))
    assert not prose_numbers((ROOT / "README.md").read_text()) - carried


def test_prose_numbers_skip_code():
    assert prose_numbers("k = 0.1 and 1,501 images `-n 64`\n```\n--k 0.5\n```\n[a](b2.md)") == {"0.1", "1,501"}
