"""Korean search: particles/endings ignored and compound parts found, proven with Material's own
search worker (run under Node) against the index of the real build — before and after."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from i18n_site import POST, Site, built_site

from snippet_runner.site import search_ko

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
)


def run_worker(site: Site, index: dict[str, Any], queries: list[str]) -> dict[str, list[str]]:
    """Hits (all locations, best group first) of each query, from Material's search worker."""
    node = shutil.which("node")
    assert node, "Node.js is needed to run Material's search worker (bootstrap installs nodejs)"
    (worker,) = (site.root / "assets" / "javascripts" / "workers").glob("search.*.min.js")
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


@pytest.fixture(scope="module")
def before_after(site: Site) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    index = site.search_index("ko")
    queries = [c.query for c in CASES]
    return run_worker(site, plain_material(index), queries), run_worker(site, index, queries)


# ASCII ids: pytest would print the Hangul queries as \uXXXX escapes.
@pytest.mark.parametrize("case", CASES, ids=[f"q{i:02d}" for i in range(1, len(CASES) + 1)])
def test_korean_query_finds_its_section(
    case: Case, before_after: tuple[dict[str, list[str]], dict[str, list[str]]]
) -> None:
    before, after = before_after
    assert case.expected in after[case.query], (case.query, after[case.query])
    flooded = [loc for loc in case.not_expected if loc in after[case.query]]
    assert not flooded, f"{case.query!r} also hits {flooded}"
    # The row only proves something if plain Material misses it.
    assert case.expected not in before[case.query], (case.query, before[case.query])


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
        search_ko.enrich_index(bad)


def query_table(site: Site) -> str:
    """The before/after table as Markdown (for README and reports)."""
    queries = [c.query for c in CASES]
    before = run_worker(site, plain_material(site.search_index("ko")), queries)
    after = run_worker(site, site.search_index("ko"), queries)
    rows = [
        "| query | the page writes | expected | plain Material | with search_ko |",
        "|---|---|---|---|---|",
    ]
    for c in CASES:
        def mark(hits: list[str], c: Case = c) -> str:
            return f"{'found' if c.expected in hits else 'missed'} ({len(hits)} hits)"

        rows.append(
            f"| `{c.query}` | {c.why} | `#{c.expected.split('#')[-1]}` | "
            f"{mark(before[c.query])} | {mark(after[c.query])} |"
        )
    return "\n".join(rows)
