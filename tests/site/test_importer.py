"""The Jekyll importer: the seed post, and every kind of bad input it must explain."""

from __future__ import annotations

import re
from pathlib import Path

import markdown  # type: ignore[import-untyped]  # no stubs installed; tests only
import pytest
import yaml
from markdown_it import MarkdownIt

from snippet_runner.errors import ConfigError
from snippet_runner.site.importer import ImageTarget, import_jekyll, main

ROOT = Path(__file__).resolve().parents[2]
# A verbatim copy of ../shared/seed/2021-09-13-post-docker-network.md (the original source).
SEED = Path(__file__).parent / "importer_data" / "2021-09-13-post-docker-network.md"
POST = "2021-09-13-post-docker-network.md"


def _split(text: str) -> tuple[dict[str, object], str]:
    _, fm, body = text.split("---\n", 2)
    return yaml.safe_load(fm), body


def _tokens(body: str) -> list[tuple[str, str]]:
    """(type, text) of the blocks that must survive: headings, list items, fences, paragraphs."""
    out: list[tuple[str, str]] = []
    toks = MarkdownIt("commonmark").parse(body)
    for i, tok in enumerate(toks):
        if tok.type == "fence":
            out.append(("fence:" + tok.info, tok.content))
        elif tok.type == "heading_open":
            out.append(("heading", toks[i + 1].content))
        elif tok.type == "list_item_open":
            out.append(("item", toks[i + 2].content))
        elif tok.type == "inline" and "![" not in tok.content:
            out.append(("inline", tok.content))
    return out


def _sentences(body: str) -> list[str]:
    """Every sentence of the prose (not code, not image lines)."""
    out: list[str] = []
    for tok in MarkdownIt("commonmark").parse(body):
        if tok.type == "inline" and "![" not in tok.content:
            for line in tok.content.splitlines():
                out += [s for s in re.split(r"(?<=[.!?:])\s+", line.strip()) if s]
    return out


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A minimal site layout: mkdocs.yml, assets/ with the redrawn diagrams, docs/."""
    (tmp_path / "mkdocs.yml").write_text("site_name: t\n", encoding="utf-8")
    diagrams = tmp_path / "assets" / "diagrams"
    diagrams.mkdir(parents=True)
    for name in ("bridge.ko.svg", "host.ko.svg"):
        (diagrams / name).write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", "utf-8")
    (tmp_path / "assets" / "imported-images.yml").write_text(
        (ROOT / "assets" / "imported-images.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "docs" / "posts").mkdir(parents=True)
    return tmp_path


def _import(site: Path, text: str, name: str = POST) -> tuple[str, list[str], Path]:
    src = site / "jekyll" / name
    src.parent.mkdir(exist_ok=True)
    src.write_text(text, encoding="utf-8")
    dest = site / "docs" / "posts" / name
    warnings = import_jekyll(src, dest)
    return dest.read_text(encoding="utf-8"), warnings, src


# ----------------------------------------------------------------------------- the seed


def test_seed_keeps_every_sentence_heading_list_and_code_block(site: Path) -> None:
    seed_text = SEED.read_text(encoding="utf-8")
    page, _, _ = _import(site, seed_text)
    _, seed_body = _split(seed_text)
    _, page_body = _split(page)

    sentences = _sentences(seed_body)
    assert len(sentences) >= 25
    missing = [s for s in sentences if s not in page]
    assert not missing

    before, after = _tokens(seed_body), _tokens(page_body)
    assert before == after  # same headings, items, paragraphs and fences, in the same order
    assert sum(t.startswith("fence:bash") for t, _ in after) == 4
    assert [t for t, _ in after].count("item") == 8
    assert "--it -p 4000:4000" in page and "--it -v /etc/gitlab- runner" in page  # kept as written


def test_seed_front_matter_is_mapped_for_material(site: Path) -> None:
    page, warnings, src = _import(site, SEED.read_text(encoding="utf-8"))
    meta, _ = _split(page)
    assert meta["title"] == "도커(4) - Host"
    assert meta["description"] == "도커 호스트와 연결고리"
    assert meta["categories"] == ["Docker"]
    assert meta["tags"] == ["docker", "docker network"]  # Jekyll's [[a, b]] flattened
    date = meta["date"]
    assert isinstance(date, dict)
    assert str(date["created"]) == "2021-09-13 19:00:00"
    assert str(date["updated"]).startswith("2021-09-13 23:00:00")
    assert "toc" not in meta and "hide" not in meta  # toc: true is Material's default
    # The malformed last_modified_at is reported with file, line and field, and salvaged.
    [warning] = [w for w in warnings if "last_modified_at" in w]
    assert warning.startswith(f"{src}:12:")
    assert "2021-09-13T23:00:00.540Zs" in warning and "2021-09-13T23:00:00.540000+00:00" in warning
    assert len(warnings) == 1, warnings


def test_seed_images_point_at_the_redrawn_diagrams_with_alt_text(site: Path) -> None:
    page, _, _ = _import(site, SEED.read_text(encoding="utf-8"))
    images = re.findall(r"!\[([^\]]*)\]\(([^)]*)\)", page)
    assert [url for _, url in images] == [
        "/assets/diagrams/bridge.ko.svg", "/assets/diagrams/host.ko.svg",
    ]
    assert all(alt.startswith(("bridge 모드", "host 모드")) and len(alt) > 40 for alt, _ in images)
    assert "../../../assets/images" not in page


def test_list_continuations_stay_inside_their_items_in_python_markdown(site: Path) -> None:
    page, _, _ = _import(site, SEED.read_text(encoding="utf-8"))
    _, body = _split(page)
    html = markdown.markdown(body, extensions=["pymdownx.superfences"])
    # Python-Markdown needs 4-space continuation; the seed uses 2. Each mode's text stays in
    # its <li>, and no paragraph of the seed's list items escapes to the top level.
    items = [i.strip() for i in re.findall(r"<li>(.*?)</li>", html, re.S)]
    bridge = next(i for i in items if i.startswith("<p>bridge</p>"))
    assert "bridge는 기본모드입니다." in bridge and "bridge.ko.svg" in bridge
    assert '<div class="highlight"><pre>' in bridge and "test:latest" in bridge
    volume = next(i for i in items if i.startswith("<p>볼륨지정</p>"))
    assert "<h1>" not in html and "gitlab-runnet" in volume


# ----------------------------------------------------------------------------- front matter


def test_malformed_yaml_is_an_error_with_file_and_line(site: Path) -> None:
    with pytest.raises(ConfigError) as err:
        _import(site, "---\ntitle: ok\ntags: [docker\n---\nbody\n")
    assert err.value.path is not None and err.value.path.name == POST
    assert err.value.line in (3, 4)
    assert "not valid YAML" in str(err.value) and f"{POST}:" in str(err.value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("# just markdown\n", "does not start with a '---' front-matter block"),
        ("---\ntitle: never closed\nbody\n", "never closed"),
        ("---\n- a\n- b\n---\nbody\n", "must be a YAML mapping"),
    ],
)
def test_front_matter_shape_errors(site: Path, text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)) as err:
        _import(site, text)
    assert err.value.line is not None


def test_missing_title_and_date_fall_back_with_warnings(site: Path) -> None:
    page, warnings, src = _import(site, "---\nexcerpt: x\n---\n\n### 첫 제목\n\n본문.\n", "note.md")
    meta, _ = _split(page)
    assert meta["title"] == "첫 제목"
    assert "date" not in meta
    assert any("'title' is missing" in w and w.startswith(f"{src}:") for w in warnings)
    assert any("no 'date' field" in w for w in warnings)


def test_date_comes_from_the_file_name_like_jekyll(site: Path) -> None:
    page, warnings, _ = _import(site, "---\ntitle: t\ndate: yesterday\n---\nx\n",
                                "2020-02-03-name.md")
    meta, _ = _split(page)
    assert str(meta["date"]["created"]) == "2020-02-03"  # type: ignore[index]
    assert any("field 'date' has a malformed value 'yesterday'" in w for w in warnings)


def test_unusable_last_modified_at_falls_back_to_the_post_date(site: Path) -> None:
    page, warnings, src = _import(
        site, "---\ntitle: t\ndate: 2021-01-02\nlast_modified_at: soon\n---\nx\n"
    )
    meta, _ = _split(page)
    assert str(meta["date"]["updated"]) == "2021-01-02"  # type: ignore[index]
    assert any(w.startswith(f"{src}:4:") and "'last_modified_at'" in w for w in warnings)


def test_toc_published_and_unknown_fields(site: Path) -> None:
    page, warnings, _ = _import(
        site,
        "---\ntitle: t\ntoc: false\ntoc_sticky: true\npublished: false\nheader: {x: 1}\n"
        "tags: docker network\n---\nx\n",
    )
    meta, _ = _split(page)
    assert meta["hide"] == ["toc"]
    assert meta["draft"] is True
    assert meta["tags"] == ["docker", "network"]  # Jekyll splits a string on spaces
    assert any("'published: false'" in w for w in warnings)
    assert any("field 'header' has no Material equivalent" in w for w in warnings)
    assert not any("toc_sticky" in w for w in warnings)  # Material's TOC is always sticky


# ----------------------------------------------------------------------------- images


def test_bad_image_paths_are_reported_with_their_line(site: Path) -> None:
    text = (
        "---\ntitle: t\n---\n\n"
        "![a](https://example.com/a.png)\n"  # line 5: another host
        "![b](pics/b.png)\n"  # line 6: not a Jekyll asset path
        "![c](../../../assets/images/posts/2021-09-13-post-docker-network/nope.png)\n"  # line 7
        "![d](/assets/images/posts/other-post/d.png)\n"  # line 8: another post's folder
    )
    page, warnings, src = _import(site, text)
    by_line: dict[int, str] = {}
    for w in warnings:
        line = int(w.removeprefix(f"{src}:").split(":")[0])
        by_line[line] = by_line.get(line, "") + w
    assert "another host" in by_line[5]
    assert "not a Jekyll assets/images/posts" in by_line[6]
    assert "'nope.png' was not found" in by_line[7]
    assert "another post" in by_line[8]
    assert "![a](https://example.com/a.png)" in page and "![b](pics/b.png)" in page
    assert "(/assets/images/posts/2021-09-13-post-docker-network/nope.png)" in page


def test_an_explicit_image_map_wins(tmp_path: Path) -> None:
    src = tmp_path / "2021-01-01-p.md"
    src.write_text("---\ntitle: t\n---\n![x](/assets/images/posts/2021-01-01-p/x.png)\n", "utf-8")
    dest = tmp_path / "out" / "p.md"
    warnings = import_jekyll(src, dest, assets_dir=tmp_path,
                             images={"x.png": ImageTarget("x.svg", "새 그림")})
    assert "![새 그림](/assets/x.svg)" in dest.read_text(encoding="utf-8")
    assert any("was not found" in w for w in warnings)


def test_code_blocks_are_never_rewritten(site: Path) -> None:
    text = (
        "---\ntitle: t\n---\n\n### h\n\n"
        "```md\n### not a heading\n![i](../../../assets/images/posts/x/i.png)\n```\n"
    )
    page, warnings, _ = _import(site, text)
    assert "### not a heading\n![i](../../../assets/images/posts/x/i.png)\n" in page
    assert "## h\n" in page
    assert warnings == []


# ----------------------------------------------------------------------------- unreadable input


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the post") as err:
        import_jekyll(tmp_path / "absent.md", tmp_path / "out.md")
    assert err.value.path == tmp_path / "absent.md"


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    src = tmp_path / "latin1.md"
    src.write_bytes("---\ntitle: caf\xe9\n---\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        import_jekyll(src, tmp_path / "out.md")


def test_command_line_prints_one_paragraph_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "bad.md"
    src.write_text("---\ntitle: [\n---\n", encoding="utf-8")
    assert main([str(src), str(tmp_path / "out.md")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {src}:") and "Traceback" not in err
    assert err.count("\n") == 1


def test_without_an_assets_directory_images_are_reported_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no mkdocs.yml here or above the destination
    src = tmp_path / "2021-01-01-p.md"
    src.write_text("---\ntitle: t\n---\n![x](../../../assets/images/posts/2021-01-01-p/x.png)\n",
                   encoding="utf-8")
    warnings = import_jekyll(src, tmp_path / "out.md")
    assert [w for w in warnings if "could not be checked" in w and w.startswith(f"{src}:4:")]
    assert "(/assets/images/posts/2021-01-01-p/x.png)" in (tmp_path / "out.md").read_text("utf-8")


def test_the_committed_korean_page_was_produced_by_the_importer() -> None:
    """Provenance while the page is the seed's import; the verified-snippet work may edit it."""
    page = (ROOT / "docs" / "ko" / "posts" / POST).read_text(encoding="utf-8")
    meta, _ = _split(page)
    assert meta["title"] == "도커(4) - Host" and "/assets/diagrams/bridge.ko.svg" in page


def test_nested_lists_keep_their_nesting_in_python_markdown(site: Path) -> None:
    text = (
        "---\ntitle: t\n---\n\n* a\n\n  para a\n\n  1. b\n\n     para b\n\n"
        "     ```sh\n     $ x\n     ```\n\n* c\n"
    )
    page, _, _ = _import(site, text)
    html = markdown.markdown(_split(page)[1], extensions=["pymdownx.superfences"])
    squashed = re.sub(r"\s+", "", html)
    assert squashed.startswith("<ul><li><p>a</p><p>paraa</p><ol><li><p>b</p><p>parab</p>")
    assert "x</code>" in squashed.split("</ol>")[0] and squashed.endswith("<li><p>c</p></li></ul>")


def test_non_utf8_error_names_the_line(tmp_path: Path) -> None:
    src = tmp_path / "latin1.md"
    src.write_bytes("---\ntitle: t\n---\n\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"line 5, column 4 has byte 0xE9") as err:
        import_jekyll(src, tmp_path / "out.md")
    assert err.value.path == src


def test_cli_takes_an_image_map_and_reports_a_bad_one(tmp_path: Path) -> None:
    from snippet_runner.cli import main as cli_main

    src = tmp_path / "2021-01-01-p.md"
    src.write_text("---\ntitle: t\n---\n\n![x](../../../assets/images/posts/2021-01-01-p/a.png)\n",
                   encoding="utf-8")
    images = tmp_path / "map.yml"
    images.write_text("a.png: {path: diagrams/a.svg, alt: 그림}\n", encoding="utf-8")
    dest = tmp_path / "out.md"
    assert cli_main(["import-jekyll", "--images", str(images), str(src), str(dest)]) == 0
    assert "![그림](/assets/diagrams/a.svg)" in dest.read_text(encoding="utf-8")
    images.write_text("a.png: [\n", encoding="utf-8")
    assert cli_main(["import-jekyll", "--images", str(images), str(src), str(dest)]) == 2
