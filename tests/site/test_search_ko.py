"""Korean search: particles/endings ignored and compound parts found, proven with Material's own
search worker (run under Node) against the index of the real build — before and after: plain
Material, the index side of search_ko alone, and with the query splitter the built worker has."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from i18n_site import POST, Site, built_site

from snippet_runner.site import search_ko, search_ko_query

HARNESS = Path(__file__).with_name("search_worker_harness.js")

#: What Material writes for a Korean site by default (language file en.html, search.config.*).
MATERIAL_DEFAULT_SEPARATOR = r"[\s\-]+"


@dataclass(frozen=True)
class Case:
    """One row of the query table."""

    query: str
    """What the reader types."""
    expected: str
    """Location (page URL + anchor) that must be among the hits."""
    why: str
    """What the page writes, i.e. why plain prefix matching misses it."""
    not_expected: tuple[str, ...] = ()
    """Locations that must not be hit (no flooding)."""
    typed_compound: bool = False
    """A compound the reader types and the page writes apart: only the query side finds it, so
    the index side alone must miss it."""


P = POST
CASES: tuple[Case, ...] = (
    Case("컨테이너를", f"{P}#볼륨", "컨테이너는, 컨테이너가 (particle differs)"),
    Case("엔진", f"{P}#포트", "도커엔진이 (inside a compound)", (f"{P}#볼륨", f"{P}#마치며")),
    Case("네트워크가", f"{P}#포트", "네트워크를, 네트워크 모드"),
    Case("데이터가", f"{P}#볼륨", "데이터들도, 데이터를", (f"{P}#마치며",)),
    Case("가상머신에서", f"{P}#포트", "가상머신(VM)위에", (f"{P}#볼륨",)),
    Case("디렉토리를", f"{P}#볼륨", "디렉토리는", (f"{P}#포트",)),
    Case("마운트하면", f"{P}#볼륨", "마운트되어 (ending differs)", (f"{P}#포트",)),
    Case("공유하는", f"{P}#도커와-호스트", "공유 할 수 (verb ending)"),
    Case("이해하기", f"{P}#마치며", "이해하고 (verb ending)"),
    Case("볼륨을", f"{P}#볼륨", "볼륨에, 볼륨지정 (particle; compound)"),
    Case("문서", f"{P}#마치며", "공식문서를 (inside a compound)", (f"{P}#포트",)),
    Case("브리지가", f"{P}#포트", "브리지 대역, 브리지인 (particle/copula)", (f"{P}#마치며",)),
    Case("루프백이", f"{P}#포트", "루프백(`lo`)만", (f"{P}#볼륨", f"{P}#마치며")),
    Case("저장하려면", f"{P}#볼륨", "저장할 수 (ending differs)", (f"{P}#포트",)),
    Case("사라지는", f"{P}#볼륨", "사라집니다 (contracted ending)", (f"{P}#포트",)),
    Case("웹서버", f"{P}#포트", "웹 서버 (apart; compound typed)",
         (f"{P}#볼륨", f"{P}#마치며", f"{P}#도커와-호스트"), typed_compound=True),
    Case("도커엔진", f"{P}#도커와-호스트", "도커 엔진 (apart; compound typed)",
         (f"{P}#볼륨", f"{P}#마치며"), typed_compound=True),
    Case("설정파일", f"{P}#볼륨", "설정 파일 (apart; compound typed)",
         (f"{P}#포트", f"{P}#마치며"), typed_compound=True),
    Case("네트워크인터페이스", f"{P}#포트", "네트워크 인터페이스 (apart; compound typed)",
         (f"{P}#볼륨", f"{P}#마치며"), typed_compound=True),
    Case("실습용이미지", f"{P}#도커와-호스트", "실습용 이미지 (apart; compound typed)",
         (f"{P}#포트", f"{P}#마치며"), typed_compound=True),
)


def material_worker() -> Path:
    """Material's search worker as the package ships it, without the query splitter."""
    import material  # type: ignore[import-untyped]  # only to find its files

    base = Path(material.__file__).parent / "templates" / "assets" / "javascripts" / "workers"
    (worker,) = base.glob("search.*.min.js")
    return worker


def built_worker(root: Path) -> Path:
    (worker,) = (root / "assets" / "javascripts" / "workers").glob("search.*.min.js")
    return worker


def run_worker(site: Site, index: dict[str, Any], queries: list[str],
               worker: Path | None = None) -> dict[str, list[str]]:
    """Hits (all locations, best group first) of each query, from a search worker: the Korean
    site's (with the query splitter) unless another is given."""
    node = shutil.which("node")
    assert node, "Node.js is needed to run Material's search worker (bootstrap installs nodejs)"
    worker = worker or built_worker(site.root)
    index_file = site.root.parent / f"index-{abs(hash(json.dumps(index['config'])))}.json"
    index_file.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run(
        [node, str(HARNESS), str(worker), str(index_file)],
        input=json.dumps(queries), capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    groups: dict[str, list[list[str]]] = json.loads(proc.stdout)
    return {q: [loc for group in g for loc in group] for q, g in groups.items()}


def plain_material(index: dict[str, Any]) -> dict[str, Any]:
    """The same index as Material writes it without snippet_runner.site.search_ko."""
    before = copy.deepcopy(index)
    before["config"]["separator"] = MATERIAL_DEFAULT_SEPARATOR
    before["config"]["fields"].pop(search_ko.KEYWORDS_FIELD, None)
    for doc in before["docs"]:
        doc.pop(search_ko.KEYWORDS_FIELD, None)
    return before


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return built_site(tmp_path_factory)


Hits = dict[str, list[str]]


@dataclass(frozen=True)
class Runs:
    """Every query's hits three ways."""

    plain: Hits
    """Material as it comes: its separator, no keywords, its own worker."""
    index_only: Hits
    """search_ko's index (separator, keywords) with Material's own worker."""
    full: Hits
    """The site as built: that index and the worker with the query splitter."""


def runs(site: Site) -> Runs:
    index = site.search_index("ko")
    queries = [c.query for c in CASES]
    return Runs(run_worker(site, plain_material(index), queries, material_worker()),
                run_worker(site, index, queries, material_worker()),
                run_worker(site, index, queries))


@pytest.fixture(scope="module")
def before_after(site: Site) -> Runs:
    return runs(site)


# ASCII ids: pytest would print the Hangul queries as \uXXXX escapes.
@pytest.mark.parametrize("case", CASES, ids=[f"q{i:02d}" for i in range(1, len(CASES) + 1)])
def test_korean_query_finds_its_section(case: Case, before_after: Runs) -> None:
    after = before_after.full[case.query]
    assert case.expected in after, (case.query, after)
    flooded = [loc for loc in case.not_expected if loc in after]
    assert not flooded, f"{case.query!r} also hits {flooded}"
    # The row only proves something if plain Material misses it ...
    assert case.expected not in before_after.plain[case.query], before_after.plain[case.query]
    # ... and a typed compound only if the index side alone misses it too.
    if case.typed_compound:
        assert case.expected not in before_after.index_only[case.query]


def test_query_splitting_only_adds_hits(before_after: Runs) -> None:
    """What the index side finds is still found, in front: splitting adds, never takes."""
    for query, hits in before_after.index_only.items():
        full = before_after.full[query]
        assert [loc for loc in full if loc in hits] == hits, query  # same ones, same order


def test_query_splitting_needs_all_parts_and_leaves_syntax_alone(site: Site) -> None:
    index = site.search_index("ko")
    hits = run_worker(site, index, ["웹서버", "웹", "서버", "웹서버쿼카", '"웹서버"'])
    both = set(hits["웹"]) & set(hits["서버"])
    assert hits["웹서버"] and set(hits["웹서버"]) <= both  # each hit holds both parts
    assert hits["웹서버쿼카"] == []  # a word the index can't make up is not guessed at
    assert hits['"웹서버"'] == []  # quotes are Material's syntax: the query stays as typed


def test_only_the_korean_worker_has_the_query_splitter(site: Site) -> None:
    ko, en = built_worker(site.root), built_worker(site.root / "en")
    assert ko.read_text(encoding="utf-8").startswith(search_ko_query.MARK)
    assert en.read_bytes() == material_worker().read_bytes()
    # The rest of the Korean worker is Material's, byte for byte.
    prelude = search_ko_query.PRELUDE.read_bytes()
    assert ko.read_bytes() == prelude + material_worker().read_bytes()


def test_korean_index_carries_separator_and_hidden_keywords(site: Site) -> None:
    index = site.search_index("ko")
    assert index["config"]["separator"] == search_ko.korean_separator()
    assert index["config"]["fields"][search_ko.KEYWORDS_FIELD]["boost"] < 1
    post = next(d for d in index["docs"] if d["location"] == f"{POST}#포트")
    words = post[search_ko.KEYWORDS_FIELD].split()
    assert {"엔진", "도커", "네트워크", "컨테이너"} <= set(words)
    assert "네트" not in words, "loanwords must not be split into dictionary pieces"


def test_english_edition_has_its_own_index(site: Site) -> None:
    index = site.search_index("en")
    assert index["config"]["lang"] == ["en"]
    assert search_ko.KEYWORDS_FIELD not in index["config"]["fields"]
    titles = " ".join(d["title"] for d in index["docs"])
    assert not re.search("[가-힣]", titles), titles
    hits = run_worker(site, index, ["volumes", "engine", "bridge"])
    assert f"{POST}#volumes" in hits["volumes"]
    assert f"{POST}#ports" in hits["engine"]
    assert f"{POST}#ports" in hits["bridge"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("컨테이너가 독립적인 공간으로써", ["컨테이너", "독립적인", "공간"]),
        ("도커엔진이 바로 연결되어", ["도커엔진", "바로", "연결"]),
        ("bridge모드로 4가지의", ["bridge", "모드", "4", "가지"]),
        ("데이터들도 확인해보겠습니다", ["데이터", "확인"]),
        # two syllables or fewer: never cut, so 사이/하나/주의 keep their last syllable
        ("사이 하나 주의", ["사이", "하나", "주의"]),
        ("docker-compose up", ["docker", "compose", "up"]),
    ],
)
def test_separator_cuts_particles_and_endings(text: str, expected: list[str]) -> None:
    assert list(search_ko.tokens(text)) == expected


def test_compound_split_uses_only_the_sites_own_nouns() -> None:
    vocabulary = {"볼륨", "지정", "호스트", "포트"}
    assert search_ko.split_compound("볼륨지정", vocabulary) == ["볼륨", "지정"]
    assert search_ko.split_compound("호스트포트", vocabulary) == ["호스트", "포트"]
    assert search_ko.split_compound("네트워크", vocabulary) is None
    assert search_ko.split_compound("볼륨", vocabulary) is None


def test_enrich_index_rejects_a_file_that_is_not_an_index(tmp_path: Path) -> None:
    bad = tmp_path / "search_index.json"
    bad.write_text("{}", encoding="utf-8")
    with pytest.raises(search_ko.SnippetRunnerError, match="not a Material search index"):
        search_ko.enrich_index(bad, None)


KOREAN_SITE = """\
site_name: 한국어
theme:
  name: material
  language: ko
plugins:
  - search
  - snippet-runner/korean-search
"""

KOREAN_PAGE = """\
# 시작

컨테이너가 네트워크를 사용합니다. 도커엔진이 움직입니다.
"""


def _build_korean_site(tmp_path: Path, *, hide_analyser: bool) -> tuple[Site, str]:
    """A one-page Korean site built by ``mkdocs build`` with the plugin enabled by name; with
    ``hide_analyser``, ``import kiwipiepy`` fails in the build as it does without the extra."""
    root = tmp_path / "ko-site"
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(KOREAN_SITE, encoding="utf-8")
    (root / "docs" / "index.md").write_text(KOREAN_PAGE, encoding="utf-8")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    if hide_analyser:
        shadow = tmp_path / "no-kiwi" / "kiwipiepy"
        shadow.mkdir(parents=True)
        (shadow / "__init__.py").write_text("raise ImportError('not installed (test)')\n")
        env["PYTHONPATH"] = str(shadow.parent)
    proc = subprocess.run([str(Path(sys.executable).with_name("mkdocs")), "build", "--strict"],
                          cwd=root, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    built = Site(root=root / "site", url="", server=None)  # type: ignore[arg-type]
    return built, proc.stderr


@pytest.mark.parametrize("installed", [True, False], ids=["with-ko", "without-ko"])
def test_korean_search_is_a_plugin_by_name_and_the_extra_adds_the_analyser(
        tmp_path: Path, installed: bool) -> None:
    built, log = _build_korean_site(tmp_path, hide_analyser=not installed)
    index = built.search_index("ko")
    assert index["config"]["separator"] == search_ko.korean_separator()
    said = search_ko.WITHOUT_ANALYSER in log
    assert said is not installed, log
    assert (search_ko.KEYWORDS_FIELD in index["config"]["fields"]) is installed
    page = [""]  # the one page (its article; it has no sections)
    hits = run_worker(built, index, ["컨테이너를", "엔진"])
    plain = run_worker(built, plain_material(index), ["컨테이너를"])
    # The separator alone finds another particle, which plain Material misses; only the
    # analyser finds a compound's part.
    assert (hits["컨테이너를"], plain["컨테이너를"]) == (page, [])
    assert hits["엔진"] == (page if installed else [])


def test_korean_search_without_the_search_plugin_is_one_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "no-search"
    (root / "docs").mkdir(parents=True)
    (root / "mkdocs.yml").write_text(KOREAN_SITE.replace("  - search\n", ""), encoding="utf-8")
    (root / "docs" / "index.md").write_text(KOREAN_PAGE, encoding="utf-8")
    proc = subprocess.run([str(Path(sys.executable).with_name("mkdocs")), "build"], cwd=root,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 1
    assert "no search plugin is enabled: add 'search' to plugins" in proc.stderr
    assert "Traceback" not in proc.stderr


def query_table(site: Site) -> str:
    """The before/after table as Markdown (for README and reports)."""
    found = runs(site)
    rows = [
        "| query | the page writes | expected | plain Material | index side only "
        "| with search_ko |",
        "|---|---|---|---|---|---|",
    ]
    for c in CASES:
        def mark(hits: list[str], c: Case = c) -> str:
            word = "hit" if len(hits) == 1 else "hits"
            return f"{'found' if c.expected in hits else 'missed'} ({len(hits)} {word})"

        rows.append(
            f"| `{c.query}` | {c.why} | `#{c.expected.split('#')[-1]}` | "
            f"{mark(found.plain[c.query])} | {mark(found.index_only[c.query])} | "
            f"{mark(found.full[c.query])} |"
        )
    return "\n".join(rows)
