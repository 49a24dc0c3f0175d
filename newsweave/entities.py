"""Entities across articles: one entry per real-world person, place or organisation.

spaCy's per-article mentions are resolved across the story:
    * titles and possessives are stripped for matching ("Maj Gen Qasem
      Soleimani's" matches "Qasem Soleimani");
    * spelling variants match token by token (rapidfuzz ratio, "Qassem" /
      "Qasem"; "Varga" / "Vargha");
    * a lone surname joins the full name it belongs to, but only when exactly
      one full name in the story ends with it, so two people sharing a
      surname, a first name or a title are never merged; a lone surname that
      joined a person counts as PERSON whatever spaCy tagged it;
    * a title stays on an institution ("Supreme Court" is not "Court");
      punctuation glued to a span ("Awards '", "Webber - -") is dropped;
    * one word written alike is one entity whatever its labels ("Jackman"
      PERSON / GPE / ORG); "Kim Jong-un" is "Kim Jong Un"; "Eric Kirkpatrick"
      is the one "Eric Allen Kirkpatrick" of the story;
    * two first names spelled differently with one surname in one article
      ("Charlie" / "Charlene Kafoury") are two people, never variants;
    * a lone first name joins the one person of the story with that first
      name, where its article named that person in full before it, and
      only if nobody has it as a surname;
    * the type is the majority label of the mentions, so one mis-tagged
      mention does not split an entity;
    * a speaker named only by role ("Iran's supreme leader") is the one
      person the story's articles give that role, in title case just before
      the name ("Iran's Supreme Leader Ayatollah Ali Khamenei"); if two people
      hold it ("the president"), it is nobody.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from .models import EntityMention

TITLES = {
    "gen",
    "general",
    "maj",
    "major",
    "president",
    "mr",
    "mrs",
    "ms",
    "miss",
    "dr",
    "sen",
    "senator",
    "rep",
    "representative",
    "gov",
    "governor",
    "prime",
    "minister",
    "secretary",
    "ayatollah",
    "supreme",
    "leader",
    "col",
    "colonel",
    "lt",
    "lieutenant",
    "capt",
    "captain",
    "sir",
    "lord",
    "the",
    "mayor",
    "commanding",
    "farmer",
    "professor",
    "prof",
    "judge",
    "chief",
    "sgt",
    "sergeant",
    "adm",
    "admiral",
    "vice",
    "acting",
}
#: Words that mark a speaking name as an institution ("Homeland Security"), not a person.
INSTITUTION_WORDS = {
    "security",
    "department",
    "ministry",
    "office",
    "authority",
    "embassy",
    "agency",
    "council",
    "news",
    "university",
    "force",
    "forces",
    "police",
    "army",
    "government",
    "committee",
    "service",
    "house",
    "court",
}
#: Words that end an organisation's or a place's name, never a person's.
_ORG_WORDS = """prize award awards school university college foundation center centre hospital company inc corp
group street road avenue park airport bridge hall museum club fund institute church county city times post
management life"""
NOT_A_PERSON = INSTITUTION_WORDS | set(_ORG_WORDS.split())
#: A lone surname shared by several people is the one named at least this many times as often as the others.
SURNAME_DOMINANCE = 5
PEOPLE_LIKE = {"PERSON"}
PLACE_LIKE = {"GPE", "LOC", "FAC"}


def key_tokens(name: str) -> list[str]:
    """Tokens of a name without titles or possessives: "Maj Gen Qasem Soleimani's" -> [qasem, soleimani]."""
    name = re.sub(r"['’]s?\b(?=\s|$)", "", name.strip())
    # A token without a letter or digit is punctuation spaCy glued to the span ("Awards '",
    # "Chris Webber - -"); kept, it would make a second entity of the same name.
    toks = [t.strip(".,") for t in re.split(r"\s+", name) if any(c.isalnum() for c in t)]
    full = toks
    while len(toks) > 1 and toks[0].lower().rstrip(".") in TITLES:
        toks = toks[1:]
    if toks is not full and toks[-1].lower() in INSTITUTION_WORDS:
        # Titles precede a person's name, not an institution's: "Supreme Court" stays
        # "supreme court" (stripped, it was "court", and any other court would join it).
        toks = full[1:] if full[0].lower() == "the" else full
    return [t.lower() for t in toks]


def display_name(text: str) -> str:
    """The name without a possessive ending."""
    return re.sub(r"\s*['’]s?$", "", text.strip())


#: Characters before a name read for its role ("Iran's Supreme Leader Ayatollah ").
ROLE_CONTEXT = 60
_POSSESSIVE = re.compile(r"^(.+?)['’]s?$")
#: A plural one-word name ("orioles", "chargers"), lower-cased as key tokens are; not "congress".
_PLURAL_NAME = re.compile(r"[a-z][a-z'’-]{2,}[^s'’]s")


def role_of(phrase: str) -> tuple[str | None, frozenset[str]]:
    """A role phrase's owner and words: "Iran's supreme leader" -> ("iran", {supreme, leader})."""
    owner: str | None = None
    role: set[str] = set()
    for w in phrase.lower().split():
        w = w.strip(".,")
        m = _POSSESSIVE.match(w)
        if m:
            owner, role = m.group(1), set()  # the role is what follows its owner
        elif w and w not in ("the", "a", "an"):
            role.add(w)
    return owner, frozenset(role)


def role_before(text: str) -> tuple[str | None, frozenset[str]]:
    """Owner and title words written in capitals at the end of ``text`` (what stands before a name):
    "Already, Iran's Supreme Leader Ayatollah" -> ("iran", {supreme, leader, ayatollah}).
    Only capitalised words count, so "the direction of President" gives {president}."""
    tail = re.split(r"[.!?;:,\"“”()\n]", text)[-1].split()
    kept: list[str] = []
    for w in reversed(tail):
        if not w[:1].isupper():
            break
        kept.append(w)
    owner, role = role_of(" ".join(reversed(kept)))
    return owner, frozenset(w for w in role if w in TITLES)


def _similar(a: str, b: str) -> bool:
    """One name spelled two ways ("qassem"/"qasem", "soleimani"/"suleimani"); short names need
    to be closer ("bella" is not "bell", a character is not the actress)."""
    from rapidfuzz.fuzz import ratio

    if a == b:
        return True
    if len(a) <= 3 or len(b) <= 3 or a[0] != b[0]:
        return False
    return ratio(a, b) >= (90 if min(len(a), len(b)) <= 5 else 80)


def _same_name(a: list[str], b: list[str]) -> bool:
    if len(a) != len(b):
        return False
    if len(a) >= 3 and a[1:] == b[1:] and a[0][:3] == b[0][:3]:
        # The same middle and last names: a first name spelled two ways ("Betty Mae Page" /
        # "Bettie Mae Page") is one person, though alone "Betty" and "Bettie" are too short to tell.
        from rapidfuzz.fuzz import ratio

        return ratio(a[0], b[0]) >= 70
    return all(_similar(x, y) for x, y in zip(a, b, strict=True))


def _compatible_types(a: str, b: str) -> bool:
    return a == b or (a in PLACE_LIKE and b in PLACE_LIKE)


class EntityIndex:
    """Resolved entities of one story, and a lookup from (article, surface form) to the entity name."""

    def __init__(self, mentions: Sequence[EntityMention], texts: dict[str, str] | None = None) -> None:
        """Resolve ``mentions``; with ``texts`` (article id -> the text the offsets point into),
        also learn the roles written before each person's name, for :meth:`lookup`."""
        self.groups: list[dict[str, Any]] = []
        # Buckets, so each mention is compared with a few candidates, not every group:
        # similar names share first letters (``_similar`` demands it).
        self._by_letters: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        self._by_last_letter: dict[str, list[dict[str, Any]]] = {}
        self._by_short: dict[str, dict[str, Any]] = {}
        self._memo: dict[tuple[tuple[str, ...], str, str | None], dict[str, Any]] = {}
        self._by_compact: dict[str, dict[str, Any]] = {}
        #: The articles each matching form (key tokens) is written in.
        self._articles_of: dict[tuple[str, ...], set[str]] = {}
        self._build([m for m in mentions if _plausible(m.text)])
        if texts:
            self._learn_roles(texts)

    def _index(self, g: dict[str, Any]) -> None:
        toks = g["tokens"]
        self._by_letters.setdefault(tuple(t[0] for t in toks), []).append(g)
        if len(toks) > 1:
            self._by_last_letter.setdefault(toks[-1][0], []).append(g)
            if initials := _initials(toks):
                self._by_short.setdefault(initials, g)
            self._by_compact.setdefault(_compact(toks), g)
        if g.get("acronym"):
            self._by_short.setdefault(g["acronym"], g)

    def _build(self, mentions: Sequence[EntityMention]) -> None:
        keyed = sorted(
            ((key_tokens(m.text), m) for m in mentions), key=lambda t: (-len(t[0]), t[1].article, t[1].start)
        )
        for toks, m in keyed:
            self._articles_of.setdefault(tuple(toks), set()).add(m.article)
        for toks, m in keyed:
            if not toks:
                continue
            acronym = acronym_of(m.text)
            key = (tuple(toks), "PLACE" if m.label in PLACE_LIKE else m.label, acronym)
            home = self._memo.get(key) or self._find(toks, m.label, acronym)
            if home is None:
                home = {"tokens": toks, "labels": Counter(), "mentions": [], "acronym": acronym}
                self.groups.append(home)
                self._index(home)
            self._memo[key] = home
            home.setdefault("forms", set()).add(tuple(toks))
            if len(toks) == 1 and len(home["tokens"]) > 1 and home["labels"].most_common(1)[0][0] == "PERSON":
                # A lone surname that joined a person is the person, whatever spaCy tagged it:
                # counted as GPE/ORG ("Mayorkas" often is), it outvoted the full name's PERSON.
                home["labels"]["PERSON"] += 1
            else:
                home["labels"][m.label] += 1
            home["mentions"].append(m)
        self._join_first_names()

    def _join_first_names(self) -> None:
        """A lone first name ("Hugh", or Korean "Kim" of "Kim Jong Un") joins the one person of the
        story with that first name, where its article named that person in full before it. Not
        when another person has it as a surname, nor before or without the full name: there it
        may be something else ("their own Oscar at home: their son, Oscar Smith")."""
        people = [g for g in self.groups if len(g["tokens"]) > 1 and group_type(g) == "PERSON"]
        for g in list(self.groups):
            if len(g["tokens"]) != 1 or g.get("acronym"):
                continue
            if group_type(g) != "PERSON" and g["tokens"][0] not in census_first_names():
                continue  # spaCy tags a lone "Bettie" ORG as often as not
            name = g["tokens"][0]
            holders = [p for p in people if p["tokens"][0] == name]
            if len(holders) != 1 or any(_similar(name, p["tokens"][-1]) for p in people):
                continue
            person = holders[0]
            first: dict[str, int] = {}
            for m in person["mentions"]:
                if len(key_tokens(m.text)) > 1:  # named in full, not by the lone surname
                    first[m.article] = min(first.get(m.article, m.start), m.start)
            moved = [m for m in g["mentions"] if m.article in first and m.start > first[m.article]]
            if not moved:
                continue
            person["mentions"].extend(moved)
            person["labels"]["PERSON"] += len(moved)
            for m in moved:
                g["labels"][m.label] -= 1
            g["labels"] += Counter()  # drop the emptied labels
            g["mentions"] = [m for m in g["mentions"] if not any(m is x for x in moved)]
            if not g["mentions"]:
                self.groups.remove(g)

    def _find(self, toks: list[str], label: str, acronym: str | None = None) -> dict[str, Any] | None:
        if len(toks) == 1:
            # A lone surname joins the one person whose full name ends with it, whatever
            # spaCy tagged the lone mention; if two people share it, it joins nobody.
            people = [
                g
                for g in self._by_last_letter.get(toks[0][0], [])
                if group_type(g) == "PERSON" and _similar(toks[0], g["tokens"][-1])
            ]
            if len(people) == 1:
                return people[0]
            if len(people) > 1:
                # The story's subject and a relative ("Bettie Page" and her father "Jack Page"):
                # the surname alone is the one named far more often than everyone else sharing it.
                counts = sorted((len(g["mentions"]), i) for i, g in enumerate(people))
                top, rest = counts[-1][0], sum(c for c, _ in counts[:-1])
                if top >= SURNAME_DOMINANCE * rest:
                    return people[counts[-1][1]]
            if label == "ORG" and _PLURAL_NAME.fullmatch(toks[0]):
                # A team or band by its short name: "the Orioles" is the Baltimore Orioles when
                # the story names one organisation ending so. Plural names only, so the House is
                # never the White House.
                orgs = [
                    g
                    for g in self._by_last_letter.get(toks[0][0], [])
                    if g["tokens"][-1] == toks[0] and group_type(g) == "ORG"
                ]
                if len(orgs) == 1:
                    return orgs[0]
        if acronym:
            # "U.S." / "US" / "the United States": an acronym joins the name it abbreviates.
            found = self._by_short.get(acronym)
            if found is not None:
                return found
        elif len(toks) > 1:
            g = self._by_short.get(_initials(toks) or "-")
            if g is not None and g.get("acronym") and _compatible_types(label, group_type(g)):
                g["tokens"] = toks  # the spelled-out name is the better key
                self._index(g)
                return g
        for g in self._by_letters.get(tuple(t[0] for t in toks), []):
            # A full name is the same entity whatever spaCy tagged it ("Ilse Varga" as ORG once),
            # and so is one word written exactly alike: the small model tags a surname PERSON,
            # GPE and ORG in one story ("Jackman"), which made three entities of it.
            same_type = len(toks) > 1 or toks == g["tokens"] or _compatible_types(label, group_type(g))
            if _same_name(toks, g["tokens"]) and same_type and not self._siblings(toks, g):
                return g
        if len(toks) > 1:
            # "Kim Jong-un" / "Kim Jong Un": the same letters, split differently.
            g = self._by_compact.get(_compact(toks))
            if g is not None and not self._siblings(toks, g):
                return g
        if len(toks) == 2:
            # "Eric Kirkpatrick" is "Eric Allen Kirkpatrick" (a middle name or initial left out),
            # when exactly one person of the story has that first and last name.
            people = [
                g
                for g in self._by_last_letter.get(toks[-1][0], [])
                if len(g["tokens"]) > 2
                and group_type(g) == "PERSON"
                # The first name as written, not a look-alike: "Erica" is not "Eric" (Allen).
                and any(len(f) > 2 and f[0] == toks[0] for f in g.get("forms", ()))
                and _similar(toks[-1], g["tokens"][-1])
                and not self._siblings(toks, g)
            ]
            if len(people) == 1:
                return people[0]
        return None

    def _siblings(self, toks: list[str], g: dict[str, Any]) -> bool:
        """Whether ``toks`` and a full name of ``g`` are two people of one family: the same
        surname and first names spelled differently in one article ("Charlie Kafoury" and his
        daughter "Charlene Kafoury"). An outlet may spell a surname two ways in one article
        ("Soleimani" / "Suleimani"), but a first name it writes two ways is two people."""
        if len(toks) < 2:
            return False
        mine = self._articles_of.get(tuple(toks), set())
        return any(
            len(f) == len(toks) and f[0] != toks[0] and f[-1] == toks[-1] and self._articles_of.get(f, set()) & mine
            for f in g.get("forms", ())
        )

    def mark_speakers(self, spoken: dict[tuple[str, str], str]) -> None:
        """Mark the entities that speak a quote (people, whatever spaCy tagged them).

        ``spoken`` maps (article, speaker as written) to the resolved name. A speaker written
        as part of the name ("Mansoor said", which spaCy did not tag) becomes an alias, and its
        article one of the entity's articles; a role ("Iran's supreme leader") does not.
        """
        by_name: dict[str, list[dict[str, Any]]] = {}
        for g in self.groups:
            by_name.setdefault(self._name(g), []).append(g)
        for (article, surface), name in spoken.items():
            toks = key_tokens(surface)
            for g in by_name.get(name, ()):
                g["speaker"] = True
                if toks and toks != g["tokens"] and set(toks) <= set(g["tokens"]) and surface.strip()[:1].isupper():
                    g.setdefault("spoken", set()).add((article, display_name(surface)))

    def lookup(self, surface: str | None) -> str | None:
        """The resolved entity name for a surface form (a quote's speaker), or None."""
        if not surface:
            return None
        toks = key_tokens(surface)
        if not toks:
            return None
        for g in self.groups:
            # The form written exactly first: a fuzzy match could take a relative ("Charlene"
            # is close to "Charlie") whom the index kept apart.
            if tuple(toks) in g.get("forms", ()) or toks == g["tokens"]:
                return self._name(g)
        for g in self.groups:
            if _same_name(toks, g["tokens"]) and not self._siblings(toks, g):
                return self._name(g)
        people = [g for g in self.groups if len(g["tokens"]) > 1 and _similar(toks[-1], g["tokens"][-1])]
        # A surname is written with a capital: "the judge said" names no Aaron Judge.
        capitalised = surface.split()[-1][:1].isupper()
        if len(people) == 1 and capitalised and (len(toks) == 1 or _similar(toks[0], people[0]["tokens"][0])):
            return self._name(people[0])
        # A phrase containing one known person ("the new leader of the Quds Force, Ismail Qaani").
        inside = [g for g in self.groups if len(g["tokens"]) > 1 and " ".join(g["tokens"]) in " ".join(toks)]
        if len(inside) == 1:
            return self._name(inside[0])
        return self._by_role(surface)

    def _learn_roles(self, texts: dict[str, str]) -> None:
        for g in self.groups:
            if group_type(g) != "PERSON":
                continue
            for m in g["mentions"]:
                text = texts.get(m.article)
                if text is None or text[m.start : m.end] != m.text:
                    continue  # offsets into another text: nothing to read
                # The name's own words never count ("Aaron Judge" is no judge); titles spaCy
                # took into the span ("Ayatollah Ali Khamenei") do.
                words = m.text.split()
                titles = " ".join(words[: max(0, len(words) - len(key_tokens(m.text)))])
                owner, role = role_before(text[max(0, m.start - ROLE_CONTEXT) : m.start] + " " + titles)
                g.setdefault("roles", set()).update(role)
                if owner:
                    g.setdefault("owners", set()).add(owner)

    def _by_role(self, surface: str) -> str | None:
        """The one person given this role ("Iran's supreme leader") in the story, or None."""
        owner, role = role_of(surface)
        if not role or not role <= TITLES:
            return None
        found = [
            g
            for g in self.groups
            if group_type(g) == "PERSON"
            and role <= g.get("roles", set())
            and (owner is None or owner in g.get("owners", set()))
        ]
        return self._name(found[0]) if len(found) == 1 else None

    @staticmethod
    def _name(g: dict[str, Any]) -> str:
        names: Counter[str] = Counter(display_name(m.text) for m in g["mentions"])
        longest = max(len(key_tokens(n)) for n in names)
        full = [n for n in names if len(key_tokens(n)) == longest]
        # The most frequent full form, without titles ("Qasem Soleimani", not "Maj Gen Qasem Soleimani").
        best = max(full, key=lambda n: (names[n], -len(n)))
        words = best.split()
        while words and not any(c.isalnum() for c in words[-1]):
            words.pop()  # "Chris Webber - -"
        # Leading titles off, as many as key_tokens dropped ("&" inside a name stays).
        extra = sum(any(c.isalnum() for c in w) for w in words) - len(key_tokens(best))
        return " ".join(words[extra:]) if extra > 0 else " ".join(words)

    def entities(self) -> list[dict[str, Any]]:
        """The contract's ``entities`` entries, most widely reported first."""
        out: list[dict[str, Any]] = []
        for g in self.groups:
            name = self._name(g)
            spoken = g.get("spoken", set())
            aliases = sorted(({display_name(m.text) for m in g["mentions"]} | {f for _, f in spoken}) - {name})
            out.append(
                {
                    "name": name,
                    "type": group_type(g),
                    "aliases": aliases,
                    "articles": sorted({m.article for m in g["mentions"]} | {a for a, _ in spoken}),
                    "mentions": len(g["mentions"]),
                }
            )
        out.sort(key=lambda e: (-len(e["articles"]), -e["mentions"], e["name"]))
        return out


def acronym_of(text: str) -> str | None:
    """ "U.S." / "US" / "the UK's" -> "us" / "uk": a name written as capitals, lower-cased; else None."""
    t = re.sub(r"['’]s?$", "", text.strip())
    t = re.sub(r"^the\s+", "", t, flags=re.I).replace(".", "")
    return t.lower() if 2 <= len(t) <= 5 and t.isalpha() and t.isupper() else None


def _compact(toks: list[str]) -> str:
    return "".join(toks).replace("-", "")


def _initials(toks: list[str]) -> str:
    if any("." in t for t in toks):
        # A word that is itself an abbreviation ("U.S. Senate") gives no initials: read as
        # "us", "U.S. Senate" took every "U.S." of the story.
        return ""
    words = [t for t in toks if t not in {"of", "the", "and", "for"}]
    return "".join(t[0] for t in words) if len(words) >= 2 else ""


@functools.cache
def census_first_names() -> dict[str, str]:
    """First name -> "m" or "f", where the 1990 US census (the ``names`` package's tables) counts
    one sex at least ten times as often as the other ("mark" m, "bettie" f; "kim", "jordan" neither)."""
    import names

    freq: dict[str, dict[str, float]] = {}
    for sex, table in (("m", "first:male"), ("f", "first:female")):
        with open(names.FILES[table], encoding="ascii") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 2:
                    freq.setdefault(parts[0].lower(), {})[sex] = float(parts[1])
    out: dict[str, str] = {}
    for name, by_sex in freq.items():
        m, f = by_sex.get("m", 0.0), by_sex.get("f", 0.0)
        if m > 0 and m >= 10 * f:
            out[name] = "m"
        elif f > 0 and f >= 10 * m:
            out[name] = "f"
    return out


@functools.cache
def census_surnames() -> frozenset[str]:
    """The 88,799 surnames of the 1990 US census (the ``names`` package's table), lower-cased."""
    import names

    with open(names.FILES["last"], encoding="ascii") as fh:
        return frozenset(line.split()[0].lower() for line in fh if line.strip())


def looks_like_a_person(toks: Sequence[str]) -> bool:
    """Whether a two- or three-word name reads as a person's whatever spaCy tagged it: a census
    first name and a census surname, and no word of an organisation or place ("Bettie Page" yes;
    "Al Jazeera", "Curtis Management Group" no)."""
    return (
        2 <= len(toks) <= 3
        and toks[0] in census_first_names()
        and toks[-1] in census_surnames()
        and not set(toks) & NOT_A_PERSON
    )


def group_type(g: dict[str, Any]) -> str:
    """The majority label; PERSON when a third of the mentions say so (the small model often tags people ORG).

    A name written in capitals ("KXNW") is never a person; a multi-word name
    that speaks a quote is one (``EntityIndex.mark_speakers``), and so is a name that is not a
    place's and reads as a person's (:func:`looks_like_a_person`).
    """
    labels: Counter[str] = g["labels"]
    if g.get("acronym"):
        return "ORG" if labels.most_common(1)[0][0] == "PERSON" else labels.most_common(1)[0][0]
    if g.get("speaker") and len(g["tokens"]) > 1 and (labels["PERSON"] or not set(g["tokens"]) & INSTITUTION_WORDS):
        return "PERSON"
    if labels["PERSON"] * 3 >= sum(labels.values()):
        return "PERSON"
    top = labels.most_common(1)[0][0]
    if top not in PLACE_LIKE and looks_like_a_person(g["tokens"]):
        return "PERSON"  # "Bettie Page", which the small model tags ORG more often than not
    return top


def _plausible(text: str) -> bool:
    t = re.sub(r"^the\s+", "", text.strip(), flags=re.I)
    words = [w.lower().strip(".,") for w in t.split()]
    if all(w in TITLES for w in words):
        return False  # "General", "Supreme": a title alone names nobody
    return bool(t) and any(c.isalpha() for c in t) and (t[0].isupper() or t[0].isdigit()) and len(t) < 80


def resolve_entities(mentions: Sequence[EntityMention]) -> list[dict[str, Any]]:
    """Group mentions into entities (see the module docstring)."""
    return EntityIndex(mentions).entities()
