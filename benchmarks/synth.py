"""A deterministic, streaming synthesizer of labelled news streams built from real articles.

Use it to benchmark anything that reads a stream of articles (the streaming
clusterer, the Spark batch job) at sizes the real sets do not reach:

    >>> from benchmarks.synth import synthesize
    >>> for article, story in synthesize(100_000, seed=7):   # lazily, in publication order
    ...     ...

How a stream is made (see docs/clustering.md):

* **Templates.** Every gold story of ECB+ (train and dev) and every NeuS story
  (train and val: three outlets' reports of one event) is a template: a set of
  real reports of one event. Nothing from the sets is copied into the project;
  they are read from ``../shared`` at run time.
* **Events.** An event is a template happening on a given day. Templates are
  reused: the same template returns months later as a *different* story (the
  same theme at another time), which a clusterer must keep apart by date.
  Events start at a steady rate (``per_day`` articles a day on average).
* **Reports.** Each event gets 2-12 reports published over its first days; each
  is one of the template's articles with perturbed wording: sentences after the
  lead dropped (15%) or reordered, words dropped (3%), and numbers nudged. About
  one report in ten republishes an earlier report of the same event nearly word
  for word (wire copy), for the deduper.
* **Order and memory.** Reports come out sorted by publication time through a
  heap that only holds the events still running, so memory stays flat whatever
  ``n`` is. The same ``n``, ``seed`` and data give the same stream, byte for byte.

Command line: ``python benchmarks/synth.py N OUT.jsonl [--seed S]`` writes
``{"id", "story", "title", "text", "published", "source"}`` lines.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from newsweave.models import Article

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
OUTLETS = ("Wire One", "Daily Ledger", "Metro Post", "Coast Times", "Valley Herald", "Capital Report", "Northern Star")
_SENT = re.compile(r"(?<=[a-z0-9\"”'][.!?])\s+(?=[A-Z“\"])|\n+")
_NUM = re.compile(r"\b\d+\b")
#: Reports shorter than this are left out (too short for ingestion to accept them as articles).
MIN_CHARS = 80


@dataclass(frozen=True)
class Template:
    """Real reports of one event: (title, text) pairs, and where they came from."""

    key: str
    reports: tuple[tuple[str, str], ...]


def load_templates(shared: Path = SHARED) -> list[Template]:
    """Templates from ECB+ (train, dev) and NeuS (train, val) under ``shared``; missing files are skipped.

    Raises:
        FileNotFoundError: when none of the files is there (the stream would be empty).
    """
    templates: list[Template] = []
    for split in ("train", "dev"):
        path = shared / "eval" / "ecbplus" / f"{split}.jsonl"
        if not path.exists():
            continue
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if len(rec["text"].strip()) >= MIN_CHARS:
                    groups[rec["story"]].append((rec["title"], rec["text"]))
        templates += [Template(f"ecb:{k}", tuple(v)) for k, v in sorted(groups.items())]
    for split in ("train", "val"):
        path = shared / "eval" / "neus" / f"{split}.jsonl"
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                articles = [a for a in rec["articles"] if len(a.get("text", "").strip()) >= MIN_CHARS]
                reports = tuple((a["title"], a["text"]) for a in articles)
                if reports:
                    templates.append(Template(f"neus:{rec['id']}", reports))
    if not templates:
        raise FileNotFoundError(f"no ECB+ or NeuS data under {shared}: the synthesizer reads them from ../shared")
    return templates


def perturb(title: str, text: str, rng: random.Random) -> tuple[str, str]:
    """Reword a report a little: drop or reorder later sentences, drop words, nudge numbers."""
    sents = [s for s in _SENT.split(text) if s.strip()]
    drop = 0.15 if len(sents) > 3 else 0.0  # short reports (a NeuS lead) keep every sentence
    lead, rest = sents[:1], [s for s in sents[1:] if rng.random() > drop]
    if len(rest) > 2 and rng.random() < 0.5:
        i = rng.randrange(len(rest) - 1)
        rest[i], rest[i + 1] = rest[i + 1], rest[i]

    def words(s: str) -> str:
        kept = [w for w in s.split(" ") if rng.random() > 0.03]
        return " ".join(kept)

    def nudge(m: re.Match[str]) -> str:
        value = int(m.group(0))
        if 1900 <= value <= 2100 or rng.random() > 0.3:  # years stay: they date the event
            return m.group(0)
        return str(max(0, value + rng.choice((-2, -1, 1, 2))))

    body = "\n".join(_NUM.sub(nudge, words(s)) for s in lead + rest)
    return title, body if len(body) >= 0.5 * len(text) or len(body) > 400 else text


def synthesize(
    n: int,
    *,
    seed: int = 0,
    shared: Path = SHARED,
    start: datetime = datetime(2020, 1, 1),
    per_day: int = 200,
    copy_rate: float = 0.1,
) -> Iterator[tuple[Article, str]]:
    """Yield ``n`` (article, gold story) pairs in publication order; deterministic for a given seed.

    Args:
        n: how many articles.
        seed: the random seed (the same seed gives the same stream).
        shared: the ``shared`` folder holding ``eval/ecbplus`` and ``eval/neus``.
        start: publication time of the first event.
        per_day: average articles per day (sets how many events run at once).
        copy_rate: share of reports that republish an earlier report of their event.
    """
    rng = random.Random(seed)
    templates = load_templates(shared)
    uses: dict[str, int] = defaultdict(int)
    pending: list[tuple[datetime, int, Article, str]] = []
    seq = 0
    emitted = 0
    clock = start
    mean_reports = 7.0
    gap = timedelta(days=1) * (mean_reports / per_day)
    while emitted < n:
        # Start the next event, then release every report published before it starts.
        tpl = templates[rng.randrange(len(templates))]
        uses[tpl.key] += 1
        story = f"{tpl.key}#{uses[tpl.key]}"
        k = rng.randint(2, 12)
        earlier: list[tuple[str, str]] = []
        for j in range(k):
            when = clock + timedelta(hours=rng.expovariate(1 / 20.0))
            if earlier and rng.random() < copy_rate:
                title, text = earlier[rng.randrange(len(earlier))]
                text = text.replace(" the ", " The ", 1)  # a republished copy: near-verbatim
            else:
                title, text = perturb(*tpl.reports[rng.randrange(len(tpl.reports))], rng)
                earlier.append((title, text))
            seq += 1
            art = Article(
                id=f"syn-{seed}-{seq}",
                title=title,
                text=text,
                source=OUTLETS[(seq + j) % len(OUTLETS)],
                published=when.isoformat(timespec="seconds"),
            )
            heapq.heappush(pending, (when, seq, art, story))
        clock += gap * rng.expovariate(1.0)
        while pending and pending[0][0] <= clock and emitted < n:
            _, _, art, story_id = heapq.heappop(pending)
            emitted += 1
            yield art, story_id
    # n reached: the reports still pending are never released (the stream is cut at n).


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as fh:
        for art, story in synthesize(args.n, seed=args.seed):
            rec = {
                "id": art.id,
                "story": story,
                "title": art.title,
                "text": art.text,
                "published": art.published,
                "source": art.source,
            }
            fh.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
