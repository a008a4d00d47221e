"""Helpers shared by the display tests (parsing reprs back)."""

import re
from html import unescape
from html.parser import HTMLParser

XSS = "<img src=x onerror=alert(1)>"

# -- helpers -----------------------------------------------------------------------------------------
ALLOWED_TAGS = {
    "style", "pre", "div", "span", "input", "label", "dl", "dt", "dd", "table", "thead", "tbody", "tr",
    "th", "td", "svg", "title", "defs", "marker", "path", "rect", "circle", "text", "tspan", "g",
}  # fmt: skip


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.data: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.data.append(data)


def check_safe_html(html: str) -> TagCollector:
    """Only nasbook's own tags, no event handlers, no scripts: user strings were escaped."""
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    tags = {t for t, _ in parser.tags}
    assert tags <= ALLOWED_TAGS, f"unexpected tags {tags - ALLOWED_TAGS}"
    for tag, attrs in parser.tags:
        for name, value in attrs:
            assert not name.startswith("on"), f"<{tag} {name}=...>"
            assert "javascript:" not in (value or "").lower()
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    return parser


def html_section_titles(html: str) -> list[str]:
    return [unescape(t).strip() for t in re.findall(r'<label class="nb-section-title" for="[^"]+">([^<]*)', html)]


def text_section_titles(text: str) -> list[str]:
    lines = text.splitlines()[1:]  # after the header line
    return [re.sub(r" \(.*\)$", "", line) for line in lines if line and not line.startswith(" ")]


def extract_svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
