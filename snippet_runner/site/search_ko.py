"""Korean search for Material for MkDocs: particles and endings ignored, compound parts found.

Material's client-side search (lunr) matches Korean by prefix only: `컨테이너가` never finds a page
that writes `컨테이너를`, and `엔진` is not found inside `도커엔진이`. Two build-time changes fix
that without loading anything new in the reader's browser:

* the search *separator* (a regex Material applies to the indexed text **and** to every query)
  also cuts common particles and 하다/되다 endings off the end of a Hangul word, so `컨테이너가`,
  `컨테이너를` and `컨테이너` all become the token `컨테이너` on both sides;
* after the build, every search document gets a hidden `keywords` field holding the stems found
  by the Kiwi morphological analyser (kiwipiepy, build time only): nouns, verb stems and the parts
  of compound nouns (`도커엔진` → `도커`, `엔진`). Material indexes every field named in the index's
  `config.fields`, but only renders title, text and tags, so readers never see the field;
* Material's search worker gets a prelude (`search_ko_query`) that splits a compound the
  reader types into words of the index (`웹서버` → `웹`, `서버`, both required).

Enable it by name: ``plugins: [search, snippet-runner/korean-search]``; it acts only on builds whose
`theme.language` is `ko` (an English edition that INHERITs the list is left alone). The analyser
(~150 MB with its model) is the extra ``snippet-runner[ko]``; without it the separator still
applies and the build says, once, what the extra would add.
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger

from snippet_runner.errors import SnippetRunnerError
from snippet_runner.site.search_ko_query import add_query_splitting

log = get_plugin_logger(__name__)

EXTRA = "snippet-runner[ko]"
"""The extra that installs the analyser."""
WITHOUT_ANALYSER = (
    "the Korean analyser is not installed, so search ignores particles and endings "
    "(컨테이너를 finds 컨테이너가) but finds no stems or parts of compounds (엔진 in 도커엔진): "
    f"pip install '{EXTRA}' adds them."
)
"""What a Korean build without the analyser says, once."""

#: Material's recommended separator for prose with markup, minus its camelCase split (it would
#: also split `NETWORK_TYPE`-like tokens that readers type verbatim).
BASE_SEPARATOR = r'[\s\u200b\-_,:!=\[\]()"`/]+|\.(?!\d)|&[lg]t;'

#: Particles (조사) and copula forms that end a noun phrase, longest first: regex alternation is
#: ordered, and `에서는` must win over `에`.
PARTICLES: tuple[str, ...] = (
    "으로부터", "에서부터", "이라는", "이라고", "이라면", "에서는", "에서도", "에서의", "에게서",
    "에게는", "으로써", "으로서", "으로는", "으로도", "까지는", "부터는", "입니다", "이에요",
    "에서", "에게", "한테", "으로", "로써", "로서", "로는", "로도", "까지", "부터", "처럼", "보다",
    "마다", "라는", "라고", "이나", "이며", "이고", "이다", "이란", "에는", "에도", "와는", "과는",
    "와도", "과도", "임을", "예요",
    "은", "는", "이", "가", "을", "를", "의", "에", "와", "과", "도", "만", "로", "나", "란", "임",
)

#: First syllables of the 하다/되다 family (하는, 되어, 합니다, 했습니다, 된, 될 …): from there to
#: the end of the word is an ending of a Sino-Korean noun used as a verb (`연결되어` → `연결`).
VERB_STARTS = "하되해돼했됐합됩한할함된될됨"

HANGUL = "가-힣"


def korean_separator(base: str = BASE_SEPARATOR) -> str:
    """The search separator: `base` plus Hangul/Latin boundaries plus particle and ending cuts.

    Cuts need two Hangul syllables before them, so short words (`사이`, `하나`, `주의`) keep their
    last syllable. Both index and query go through the same cuts, so an over-eager cut (e.g.
    `고양이` → `고양`) is applied to both sides alike and still matches.
    """
    particles = "|".join(f"들{p}" for p in PARTICLES) + "|들|" + "|".join(PARTICLES)
    suffix = f"(?:{particles}|[{VERB_STARTS}][{HANGUL}]*)"
    return "|".join(
        [
            base,
            # `bridge모드로`, `4가지`: Latin or digits glued to Hangul are two words.
            f"(?<=[A-Za-z0-9])(?=[{HANGUL}])",
            f"(?<=[{HANGUL}])(?=[A-Za-z0-9])",
            f"(?<=[{HANGUL}]{{2}}){suffix}(?![{HANGUL}])",
        ]
    )


#: Kiwi part-of-speech tags whose forms are worth searching: common/proper nouns, roots, and
#: verb/adjective stems (irregular stems carry a suffix like `VV-R`, hence the prefix test).
CONTENT_TAGS = ("NNG", "NNP", "XR", "VV", "VA")

#: Domain words Kiwi does not know; without them `도커` is read as particle `도` + verb `크`.
USER_WORDS: tuple[str, ...] = ("도커",)

#: Name of the hidden search field, and its weight relative to `text` (1.0): below text, so a page
#: that writes the word itself ranks above a page where only an analysed stem matches.
KEYWORDS_FIELD = "keywords"
KEYWORDS_BOOST = 0.5

_TAG = re.compile(r"<[^>]+>")
_HANGUL_WORD = re.compile(f"^[{HANGUL}]+$")


@dataclass(frozen=True)
class Morpheme:
    """One analysed piece of Korean text."""

    form: str
    """Surface form of the stem as Kiwi reports it (e.g. `컨테이너`, `사라지`)."""
    tag: str
    """Kiwi's Sejong-style part-of-speech tag (e.g. `NNG`, `VV-R`)."""


class KoreanAnalyser:
    """Kiwi, loaded once per process (about a second), with the site's domain words added."""

    def __init__(self, user_words: Iterable[str] = USER_WORDS) -> None:
        try:
            # Here, not at the top: the analyser and its model (~150 MB) load only for Korean.
            from kiwipiepy import Kiwi  # type: ignore[import-untyped]
        except ImportError as exc:  # the optional extra snippet-runner[ko]
            raise AnalyserMissing(WITHOUT_ANALYSER) from exc
        self._kiwi = Kiwi()
        for word in user_words:
            self._kiwi.add_user_word(word, "NNP")
        self._parts: dict[str, list[str]] = {}

    def morphemes(self, text: str) -> list[Morpheme]:
        """The content morphemes of `text`, in order, repeats included."""
        return [
            Morpheme(tok.form, tok.tag)
            for tok in self._kiwi.tokenize(text)
            if tok.tag.startswith(CONTENT_TAGS)
        ]

    def noun_parts(self, word: str) -> list[str]:
        """The nouns Kiwi splits `word` into when it stands alone (`도커엔진` → 도커, 엔진).

        In running text Kiwi may keep an unknown compound whole; alone, it prefers known parts.
        Returns [] unless the word splits into two or more nouns and nothing else.
        """
        if word not in self._parts:
            toks = self._kiwi.tokenize(word)
            nouns = [t.form for t in toks if t.tag.startswith("NN")]
            whole = len(toks) > 1 and len(nouns) == len(toks) and "".join(nouns) == word
            self._parts[word] = nouns if whole else []
        return self._parts[word]


class AnalyserMissing(SnippetRunnerError):
    """kiwipiepy (the extra ``snippet-runner[ko]``) is not installed."""


@functools.cache
def analyser() -> KoreanAnalyser:
    """The process-wide analyser (loading the model dominates the cost); `AnalyserMissing`
    without the extra."""
    return KoreanAnalyser()


def installed_analyser() -> KoreanAnalyser | None:
    """The analyser, or None when the extra is not installed."""
    try:
        return analyser()
    except AnalyserMissing:
        return None


def split_compound(word: str, vocabulary: set[str]) -> list[str] | None:
    """Split a Hangul compound into nouns the site uses on their own, fewest parts first.

    Parts must be two or more syllables and occur as separate nouns elsewhere in the site
    (`vocabulary`): guessing parts from a dictionary splits loanwords (`네트워크` → `네트`,
    `워크`), while the site's own words only split real compounds (`볼륨지정` → `볼륨`, `지정`).
    """
    n = len(word)
    if n < 4 or not _HANGUL_WORD.match(word):
        return None
    best: list[list[str] | None] = [None] * (n + 1)  # best[i]: fewest-part split of word[:i]
    best[0] = []
    for end in range(2, n + 1):
        for start in range(0, end - 1):
            head = best[start]
            if head is None or (start == 0 and end == n) or word[start:end] not in vocabulary:
                continue
            if best[end] is None or len(head) + 1 < len(best[end] or ()):
                best[end] = [*head, word[start:end]]
    return best[n]


def plain_text(markup: str) -> str:
    """Text of a search document's HTML fragment (tags dropped, entities decoded)."""
    return html.unescape(_TAG.sub(" ", markup))


def keywords(
    morphemes: Iterable[Morpheme], noun_parts: Callable[[str], list[str]], vocabulary: set[str]
) -> list[str]:
    """Distinct searchable stems, in first-seen order, compound parts after their compound."""
    seen: dict[str, None] = {}
    for m in morphemes:
        if len(m.form) < 2 or not _HANGUL_WORD.match(m.form):
            continue  # one-syllable stems (`하`, `보`) match everything; Latin is already text
        seen.setdefault(m.form)
        if m.tag.startswith("NN"):
            parts = noun_parts(m.form) or split_compound(m.form, vocabulary) or []
            for part in parts:
                seen.setdefault(part)
    return list(seen)


def _documents(index: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    docs = index.get("docs")
    if not isinstance(docs, list):
        raise SnippetRunnerError(f"{path}: not a Material search index (no 'docs' list)")
    return docs


def enrich_index(path: Path, ko: KoreanAnalyser | None) -> int:
    """Set the Korean separator and, with an analyser, add the hidden `keywords` field to every
    document.

    Returns the number of keywords added. Idempotent: existing keywords are recomputed.
    """
    try:
        index: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SnippetRunnerError(f"{path}: cannot read the search index: {exc}") from exc
    docs = _documents(index, path)
    total = _add_keywords(docs, ko) if ko is not None else 0
    settings = index.setdefault("config", {})
    # Written here, after the search plugin wrote the index: Material copies its settings into
    # the index writer when it is configured, so changing them in on_config would be too late.
    settings["separator"] = korean_separator()
    if ko is not None:
        settings.setdefault("fields", {})[KEYWORDS_FIELD] = {"boost": KEYWORDS_BOOST}
    path.write_text(
        json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
    )
    return total


def _add_keywords(docs: list[dict[str, Any]], ko: KoreanAnalyser) -> int:
    """The hidden `keywords` field of every document; returns how many were added."""
    analysed = [ko.morphemes(plain_text(f"{d.get('title', '')} {d.get('text', '')}")) for d in docs]
    vocabulary = {
        m.form for ms in analysed for m in ms if m.tag.startswith("NN") and len(m.form) >= 2
    }
    total = 0
    for doc, morphemes in zip(docs, analysed, strict=True):
        words = keywords(morphemes, ko.noun_parts, vocabulary)
        doc[KEYWORDS_FIELD] = " ".join(words)
        total += len(words)
    return total


def _is_korean(config: Any) -> bool:
    return str(config["theme"]["language"]) == "ko"


def _search_plugin(config: Any) -> Any:
    for name in ("material/search", "search"):
        if name in config["plugins"]:
            return config["plugins"][name]
    return None


class KoreanSearchPlugin(BasePlugin):  # type: ignore[type-arg,no-untyped-call]  # mkdocs untyped
    """``snippet-runner/korean-search``: the Korean separator and morpheme keywords in
    Material's search index (``theme.language: ko`` builds only)."""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Korean builds need Material's search plugin listed: say so at once."""
        if _is_korean(config) and _search_plugin(config) is None:
            raise PluginError("snippet-runner/korean-search changes Material's search index, but "
                              "no search plugin is enabled: add 'search' to plugins, before it.")
        return config

    # Late: after Material's search plugin (default priority) has written the index.
    @event_priority(-50)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Korean separator and morpheme keywords into the search index (ko only)."""
        path = Path(config["site_dir"]) / "search" / "search_index.json"
        if not (_is_korean(config) and path.exists()):
            return
        ko = installed_analyser()
        if ko is None:
            log.info(WITHOUT_ANALYSER)
        try:
            enrich_index(path, ko)
            add_query_splitting(Path(config["site_dir"]))  # 웹서버 finds 웹 서버: search_ko_query
        except SnippetRunnerError as err:
            raise PluginError(f"snippet-runner/korean-search: {err}") from None


def tokens(text: str, separator: str | None = None) -> Iterator[str]:
    """Python twin of Material's tokenizer (split on the separator, lower-case) for tests/docs."""
    pattern = re.compile(separator or korean_separator())
    start = 0
    for match in pattern.finditer(text):
        if start < match.start():
            yield text[start : match.start()].lower()
        start = max(start, match.end())
    if start < len(text):
        yield text[start:].lower()
