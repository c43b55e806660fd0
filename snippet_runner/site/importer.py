"""Convert a Jekyll post (Minimal Mistakes front matter) into a Material for MkDocs page.

The body is kept as written — sentences, lists and code blocks keep their text — except for
four mechanical changes a Material page needs:

* front matter is mapped to what Material reads (``excerpt`` → ``description``, ``toc: false`` →
  ``hide: [toc]``, ``date``/``last_modified_at`` → ``date: {created, updated}`` as real YAML
  timestamps, which Material's blog plugin requires);
* headings are promoted so the shallowest one is ``##``: Material renders the front-matter title
  as the page's ``#``, and Jekyll themes that start posts at ``###`` would otherwise leave holes
  in the outline;
* continuation lines of list items (paragraphs, images, fences indented to the item's text) are
  re-indented to 4 spaces per level, the step Python-Markdown needs to keep them in the item;
* image paths such as ``../../../assets/images/posts/<slug>/<name>.png`` become
  ``/assets/...`` links, which MkDocs (``validation.links.absolute_links: relative_to_docs``)
  checks against the top-level ``assets/`` directory that the ``shared-assets`` plugin adds to
  every build.  A map file ``assets/imported-images.yml`` can send an image to a redrawn file
  and give it real alt text.

Bad input raises :class:`~snippet_runner.errors.ConfigError` naming file and line; questionable
but usable input (a malformed date, an unknown field, a missing image) gives a warning string and
a documented fallback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from ..core.rewrite import decode_utf8
from ..errors import ConfigError

IMAGE_MAP_NAME = "imported-images.yml"
"""File in the assets directory mapping an imported image's file name to a replacement."""

# Jekyll writes ``date: 2021-09-13 19:00`` or ISO 8601; the longest valid prefix is kept when a
# value carries trailing junk (the seed's ``2021-09-13T23:00:00.540Zs``).
_DATE_PREFIX = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:\s*(?:Z|[+-]\d{2}:?\d{2}))?"
)
_FILENAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<url><[^>]*>|[^)\s]+)(?P<title>\s+\"[^\"]*\")?\)")
_JEKYLL_ASSET = re.compile(
    r"^(?:(?:\.\./)+|/|\{\{\s*site\.(?:url|baseurl)\s*\}\}(?:\{\{\s*site\.baseurl\s*\}\})?/?)"
    r"assets/(?P<rest>images/posts/(?P<slug>[^/]+)/(?P<name>[^/]+))$"
)
_LIQUID = re.compile(r"\{%.*?%\}|\{\{.*?\}\}")
_KRAMDOWN_IAL = re.compile(r"^\s*\{:[^}]*\}\s*$")

# Minimal Mistakes layout switches with no Material counterpart: dropped without a warning
# because Material already behaves that way (sticky TOC) or the switch is purely cosmetic.
_SILENTLY_DROPPED = frozenset(
    {"toc_sticky", "toc_label", "toc_icon", "layout", "author_profile", "read_time", "share",
     "related", "comments", "classes", "sidebar", "show_date"}
)


@dataclass(frozen=True)
class ImageTarget:
    """Where an imported image goes instead of its Jekyll path."""

    path: str
    """File inside the assets directory, e.g. ``diagrams/bridge.ko.svg``."""
    alt: str | None = None
    """Alt text replacing the original (Typora-style ``image-2021…`` alt texts say nothing)."""


@dataclass(frozen=True)
class _Field:
    """A front-matter value with the source line it came from."""

    value: Any
    """The parsed YAML value."""
    line: int
    """1-based line in the source file."""


# ----------------------------------------------------------------------------- front matter


def _split_front_matter(text: str, src: Path) -> tuple[str, str, int]:
    """Return (front matter text, body, 1-based line where the body starts)."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip("\r\n") != "---":
        raise ConfigError(
            "this is not a Jekyll post: it does not start with a '---' front-matter block, so "
            "Jekyll itself would copy it unprocessed. Add front matter (at least a title) and "
            "import it again.",
            path=src,
            line=1,
        )
    for i in range(1, len(lines)):
        if lines[i].rstrip("\r\n") in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    raise ConfigError(
        "the front-matter block opened on line 1 is never closed with a '---' line.",
        path=src,
        line=1,
    )


def _parse_front_matter(fm_text: str, src: Path) -> dict[str, _Field]:
    """Parse YAML front matter, keeping each top-level key's line."""
    try:
        node = yaml.compose(fm_text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(fm_text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 2 if mark is not None else 1  # +1 for 1-based, +1 for the '---'
        raise ConfigError(
            f"the front matter is not valid YAML ({exc.problem or exc.context}). Fix the YAML "
            "and import again.",
            path=src,
            line=line,
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(
            "the front matter must be a YAML mapping of 'key: value' lines.", path=src, line=2
        )
    lines: dict[str, int] = {}
    for key_node, _ in node.value:
        lines[str(key_node.value)] = key_node.start_mark.line + 2
    return {str(k): _Field(v, lines.get(str(k), 2)) for k, v in data.items()}


def _parse_when(value: Any) -> tuple[dt.datetime | dt.date | None, bool]:
    """Parse a Jekyll date value; return (value or None, whether junk had to be cut off)."""
    if isinstance(value, dt.datetime | dt.date):
        return value, False
    if not isinstance(value, str):
        return None, False
    text = value.strip()
    match = _DATE_PREFIX.match(text)
    if match is None:
        return None, False
    iso = re.sub(r"\s*(Z|[+-]\d{2}:?\d{2})$", r"\1", match.group(0)).replace("Z", "+00:00")
    iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
    try:
        parsed: dt.datetime | dt.date = (
            dt.datetime.fromisoformat(iso) if len(iso) > 10 else dt.date.fromisoformat(iso)
        )
    except ValueError:
        return None, False
    return parsed, match.end() != len(text)


def _str_list(field: _Field, name: str, src: Path, warnings: list[str]) -> list[str]:
    """Flatten a Jekyll list (``[[a, b]]``, ``a b`` or ``[a]``) into a list of strings."""
    value = field.value

    def flat(v: Any) -> Iterable[Any]:
        if isinstance(v, list | tuple):
            for item in v:
                yield from flat(item)
        else:
            yield v

    if isinstance(value, str):
        # Jekyll splits a string of categories/tags on spaces.
        return value.split()
    if not isinstance(value, list):
        warnings.append(
            f"{src}:{field.line}: field '{name}' should be a list; got {value!r}, ignored."
        )
        return []
    out: list[str] = []
    for item in flat(value):
        if isinstance(item, str | int | float) and str(item).strip():
            if str(item) not in out:
                out.append(str(item))
        else:
            warnings.append(
                f"{src}:{field.line}: field '{name}' has an entry {item!r} that is not a "
                "name; ignored."
            )
    return out


def _map_front_matter(
    fields: Mapping[str, _Field], src: Path, body: str, warnings: list[str]
) -> dict[str, Any]:
    """Minimal Mistakes front matter → Material front matter (keys in the order written)."""
    out: dict[str, Any] = {"title": _title(fields, src, body, warnings)}
    excerpt = fields.get("excerpt")
    if excerpt is not None:
        if isinstance(excerpt.value, str | int | float):
            out["description"] = str(excerpt.value)
        else:
            warnings.append(f"{src}:{excerpt.line}: field 'excerpt' is not text; ignored.")
    for name in ("categories", "tags"):
        values = _str_list(fields[name], name, src, warnings) if name in fields else []
        if values:
            out[name] = values
    created = _created(fields, src, warnings)
    updated = _updated(fields, src, created, warnings)
    date = {k: v for k, v in (("created", created), ("updated", updated)) if v is not None}
    if date:
        out["date"] = date
    out.update(_visibility(fields, src, warnings))
    for name, field in fields.items():
        if name not in _KNOWN_FIELDS and name not in _SILENTLY_DROPPED:
            warnings.append(
                f"{src}:{field.line}: field '{name}' has no Material equivalent; dropped."
            )
    return out


_KNOWN_FIELDS = frozenset(
    {"title", "excerpt", "categories", "tags", "date", "last_modified_at", "toc", "published"}
)
"""Jekyll fields `_map_front_matter` translates."""


def _title(fields: Mapping[str, _Field], src: Path, body: str, warnings: list[str]) -> str:
    """The ``title``, else the first heading, else the file name (with a warning)."""
    title = fields.get("title")
    if title is not None and isinstance(title.value, str | int | float) and str(title.value):
        return str(title.value)
    fallback = _first_heading(body) or _slug_of(src).replace("-", " ")
    where = f"{src}:{title.line}" if title is not None else f"{src}:1"
    warnings.append(f"{where}: field 'title' is missing or empty; using {fallback!r}.")
    return fallback


def _visibility(fields: Mapping[str, _Field], src: Path, warnings: list[str]) -> dict[str, Any]:
    """``toc: false`` → ``hide: [toc]``; ``published: false`` → ``draft: true``."""
    out: dict[str, Any] = {}
    toc = fields.get("toc")
    if toc is not None and toc.value is False:
        out["hide"] = ["toc"]
    published = fields.get("published")
    if published is not None and published.value is False:
        # Material's blog plugin reads `draft`; plain pages are still built, so say so.
        out["draft"] = True
        warnings.append(
            f"{src}:{published.line}: 'published: false' became 'draft: true'; outside a "
            "Material blog the page is still built — exclude it in mkdocs.yml if it must not be."
        )
    return out


def _created(
    fields: Mapping[str, _Field], src: Path, warnings: list[str]
) -> dt.datetime | dt.date | None:
    """The post date: front matter ``date``, else the ``YYYY-MM-DD-`` file-name prefix (Jekyll)."""
    from_name = _FILENAME_DATE.match(src.name)
    name_date = dt.date.fromisoformat(from_name.group(1)) if from_name else None
    field = fields.get("date")
    if field is None:
        if name_date is None:
            warnings.append(
                f"{src}:1: no 'date' field and no YYYY-MM-DD- prefix in the file name; the page "
                "has no date."
            )
        return name_date
    parsed, trimmed = _parse_when(field.value)
    if parsed is None:
        fallback = name_date.isoformat() if name_date else "no date"
        warnings.append(
            f"{src}:{field.line}: field 'date' has a malformed value {field.value!r}; using "
            f"{fallback} (from the file name)."
        )
        return name_date
    if trimmed:
        warnings.append(
            f"{src}:{field.line}: field 'date' has trailing characters in {field.value!r}; "
            f"using {parsed.isoformat()}."
        )
    return parsed


def _updated(
    fields: Mapping[str, _Field],
    src: Path,
    created: dt.datetime | dt.date | None,
    warnings: list[str],
) -> dt.datetime | dt.date | None:
    """``last_modified_at``; a malformed value falls back to its valid prefix, else ``date``."""
    field = fields.get("last_modified_at")
    if field is None:
        return None
    parsed, trimmed = _parse_when(field.value)
    if parsed is None:
        fallback = f"the post date {created.isoformat()}" if created else "no update date"
        warnings.append(
            f"{src}:{field.line}: field 'last_modified_at' has a malformed value "
            f"{field.value!r}; using {fallback}."
        )
        return created
    if trimmed:
        warnings.append(
            f"{src}:{field.line}: field 'last_modified_at' has a malformed value "
            f"{field.value!r} (trailing characters after a valid timestamp); using "
            f"{parsed.isoformat()}."
        )
    return parsed


# ----------------------------------------------------------------------------- body


def _slug_of(src: Path) -> str:
    """Jekyll's post slug: the file stem (date prefix included, as in the image folders)."""
    return src.stem


def _first_heading(body: str) -> str | None:
    """Text of the first heading, for a missing title."""
    tokens = MarkdownIt("commonmark").parse(body)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and i + 1 < len(tokens):
            return tokens[i + 1].content.strip() or None
    return None


def _structure(body: str) -> tuple[set[int], dict[int, int]]:
    """Return (0-based body lines inside code blocks, heading line → level) via markdown-it."""
    code: set[int] = set()
    headings: dict[int, int] = {}
    for tok in MarkdownIt("commonmark").parse(body):
        if tok.map is None:
            continue
        if tok.type in ("fence", "code_block", "html_block"):
            code.update(range(tok.map[0], tok.map[1]))
        elif tok.type == "heading_open" and tok.markup.startswith("#"):
            headings[tok.map[0]] = int(tok.tag[1])
    return code, headings


@dataclass(frozen=True)
class _Item:
    """A CommonMark list item, for re-indenting its continuation lines."""

    start: int
    """0-based line of the marker."""
    end: int
    """0-based line after the item."""
    content: int
    """Column where the item's content starts (marker + spaces)."""
    depth: int
    """1 for a top-level item."""


_MARKER = re.compile(r"^( *)([*+-]|\d{1,9}[.)])( {1,4}(?! )|(?=\n|$))")


def _list_items(body: str) -> list[_Item]:
    """Every list item with its content column, via markdown-it."""
    lines = body.splitlines()
    items: list[_Item] = []
    depth = 0
    for tok in MarkdownIt("commonmark").parse(body):
        if tok.type == "list_item_close":
            depth -= 1
        if tok.type != "list_item_open" or tok.map is None:
            continue
        depth += 1
        marker = _MARKER.match(lines[tok.map[0]].lstrip(">")) if tok.map[0] < len(lines) else None
        if marker is None:
            continue
        items.append(_Item(tok.map[0], tok.map[1], marker.end(), depth))
    return items


def _reindent(line: str, index: int, items: Sequence[_Item]) -> str:
    """Move a list item's continuation line to Python-Markdown's 4-space steps.

    CommonMark (and kramdown) nest a paragraph, image or fence under ``* item`` when it is
    indented to the item's content column (2 for ``* ``); Python-Markdown needs 4 per level and
    would otherwise pull the block out of the list.
    """
    indent = len(line) - len(line.lstrip(" "))
    for item in sorted(items, key=lambda it: -it.depth):
        if item.start < index < item.end and indent >= item.content and line.strip():
            return " " * (4 * item.depth) + line[item.content :]
    return line


def _promote(line: str, by: int) -> str:
    """Remove ``by`` leading ``#`` from an ATX heading line, keeping its indentation."""
    stripped = line.lstrip(" ")
    indent = line[: len(line) - len(stripped)]
    return indent + stripped[by:]


@dataclass
class _Body:
    """What rewriting one post's body needs besides its text, and the warnings it collects."""

    src: Path
    """The post, named in warnings."""
    first_line: int
    """Source line of the body's first line (warnings name source lines)."""
    assets_dir: Path | None
    """Where image files are checked; None when there is no ``assets/`` to check against."""
    images: Mapping[str, ImageTarget]
    """Image file name → replacement (the image map)."""
    warnings: list[str]
    """Collected ``file:line: message`` warnings."""

    def warn(self, index: int, message: str) -> None:
        """Record a warning about the body's 0-based line ``index``."""
        self.warnings.append(f"{self.src}:{self.first_line + index}: {message}")


def _rewrite_image(match: re.Match[str], body: _Body, index: int) -> str:
    """Rewrite one ``![alt](url)`` to a ``/assets/...`` link the build validates."""
    alt, url, title = match.group("alt"), match.group("url").strip("<>"), match.group("title")
    if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE):
        body.warn(index, f"image {url!r} is on another host; the offline site cannot load it. "
                         "Copy it into assets/ and link it from there.")
        return match.group(0)
    jekyll = _JEKYLL_ASSET.match(url)
    if jekyll is None:
        body.warn(index, f"image path {url!r} is not a Jekyll assets/images/posts/<slug>/<name> "
                         "path; left unchanged.")
        return match.group(0)
    name, slug = jekyll.group("name"), _slug_of(body.src)
    if jekyll.group("slug") != slug:
        body.warn(index, f"image {name!r} lives in the folder of another post "
                         f"({jekyll.group('slug')!r}, this post is {slug!r}); kept as it points.")
    target = body.images.get(name)
    rel = target.path if target is not None else jekyll.group("rest")
    if target is not None and target.alt:
        alt = target.alt
    if body.assets_dir is None:
        body.warn(index, f"image {name!r} could not be checked: no assets/ directory beside a "
                         "mkdocs.yml above the destination or in the current directory.")
    elif not (body.assets_dir / rel).is_file():
        body.warn(index, f"image {name!r} was not found at {body.assets_dir / rel}; the strict "
                         "build will reject the link until the file exists (or map it in "
                         f"{IMAGE_MAP_NAME}).")
    return f"![{alt}](/assets/{rel}{title or ''})"


def _warn_jekyll_only(line: str, body: _Body, index: int) -> None:
    """Liquid tags and kramdown attribute lists survive as literal text on a Material page."""
    liquid = _LIQUID.search(line)
    if liquid is not None:
        body.warn(index, f"Liquid tag {liquid.group(0)!r} is Jekyll-only and will show as "
                         "text; rewrite it by hand.")
    if _KRAMDOWN_IAL.match(line):
        body.warn(index, f"kramdown attribute list {line.strip()!r} is Jekyll-only; use "
                         "Material's attr_list syntax '{ .class }' instead.")


def _convert_body(text: str, body: _Body) -> str:
    """Apply heading promotion and image rewriting outside code blocks."""
    code, headings = _structure(text)
    items = _list_items(text)
    shift = min(headings.values()) - 2 if headings else 0
    out: list[str] = []
    for i, raw in enumerate(text.splitlines(keepends=True)):
        line = _reindent(raw, i, items)
        if i in code:
            out.append(line)
            continue
        if i in headings and shift > 0:
            line = _promote(line, shift)
        _warn_jekyll_only(line, body, i)
        out.append(_IMAGE.sub(functools.partial(_rewrite_image, body=body, index=i), line))
    converted = "".join(out)
    return converted if converted.endswith("\n") else converted + "\n"


# ----------------------------------------------------------------------------- entry points


def _find_assets_dir(dest: Path) -> Path | None:
    """The ``assets/`` next to the nearest ``mkdocs.yml`` above ``dest``, else in the cwd."""
    for parent in [*dest.resolve().parents, Path.cwd()]:
        if (parent / "mkdocs.yml").is_file():
            candidate = parent / "assets"
            return candidate if candidate.is_dir() else None
    return None


def load_image_map(path: Path) -> dict[str, ImageTarget]:
    """Read an image map: ``<original file name>: {path: <file in assets/>, alt: <text>}``."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the image map: {exc.strerror}.", path=path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            "the image map is not valid YAML.", path=path,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("the image map must be a mapping of file names.", path=path, line=1)
    out: dict[str, ImageTarget] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            raise ConfigError(
                f"entry {name!r} needs a 'path:' naming a file inside assets/.", path=path
            )
        alt = entry.get("alt")
        out[str(name)] = ImageTarget(path=entry["path"], alt=str(alt) if alt else None)
    return out


def _read_post(src: Path) -> str:
    """The post's text; Jekyll ignores a BOM and any style of line break, so do we."""
    try:
        data = src.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the post: {exc.strerror}.", path=src) from None
    return re.sub(r"\r\n?", "\n", decode_utf8(data, src).removeprefix("\ufeff"))


def _default_images(assets_dir: Path | None) -> dict[str, ImageTarget]:
    """The image map in ``assets_dir``, or none."""
    map_file = assets_dir / IMAGE_MAP_NAME if assets_dir is not None else None
    return load_image_map(map_file) if map_file is not None and map_file.is_file() else {}


def import_jekyll(
    src: Path,
    dest: Path,
    *,
    assets_dir: Path | None = None,
    images: Mapping[str, ImageTarget] | None = None,
) -> list[str]:
    """Convert the Jekyll post ``src`` into the Material page ``dest``; return warnings.

    ``assets_dir`` defaults to the ``assets/`` beside the nearest ``mkdocs.yml`` above ``dest``;
    ``images`` defaults to that directory's ``imported-images.yml`` when it exists.
    Raises :class:`ConfigError` (with file:line) when ``src`` cannot be read or parsed.
    """
    src, dest = Path(src), Path(dest)
    text = _read_post(src)
    if assets_dir is None:
        assets_dir = _find_assets_dir(dest)
    if images is None:
        images = _default_images(assets_dir)
    warnings: list[str] = []
    fm_text, body, first_line = _split_front_matter(text, src)
    meta = _map_front_matter(_parse_front_matter(fm_text, src), src, body, warnings)
    stripped = body.lstrip("\n")
    skipped = len(body) - len(stripped)
    new_body = _convert_body(stripped, _Body(src, first_line + skipped, assets_dir, images,
                                             warnings))
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, default_flow_style=False)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(f"---\n{front}---\n\n{new_body}", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write the page: {exc.strerror}.", path=dest) from None
    return warnings


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m snippet_runner.importer SRC DEST``; the CLI's ``import-jekyll`` is the same."""
    parser = argparse.ArgumentParser(prog="python -m snippet_runner.importer")
    parser.add_argument("src", type=Path, help="the Jekyll post (.md with front matter)")
    parser.add_argument("dest", type=Path, help="the Material page to write")
    parser.add_argument("--images", type=Path, help=f"image map (default: assets/{IMAGE_MAP_NAME})")
    args = parser.parse_args(argv)
    try:
        images = load_image_map(args.images) if args.images else None
        for warning in import_jekyll(args.src, args.dest, images=images):
            print(f"warning: {warning}", file=sys.stderr)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
