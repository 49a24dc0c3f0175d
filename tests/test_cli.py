"""The CLI end to end: formats, the JSON contract, exit codes, the real seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from newsweave.cli import main

pytestmark = pytest.mark.slow

CONTRACT = {
    "id",
    "headline",
    "articles",
    "summary",
    "facts",
    "figures",
    "quotes",
    "entities",
    "timeline",
    "shared_passages",
}


def _texts(paths: list[Path]) -> dict[str, str]:
    from newsweave.ingest import read_paths
    from newsweave.models import Article

    return {a.id: a.text for a in read_paths(paths) if isinstance(a, Article)}


def assert_spans_exact(story: dict[str, Any], texts: dict[str, str]) -> None:
    """Every evidence/mention text is an exact span of the article it names."""
    for fact in story["facts"]:
        for ev in fact["evidence"]:
            assert ev["text"] in texts[ev["article"]]
    for group in ("figures", "quotes"):
        for item in story[group]:
            for m in item["mentions"]:
                assert m["text"] in texts[m["article"]], (group, m)


def test_cli_analyze_json_follows_the_contract(demo_dir: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", str(demo_dir), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["stories"]) == 2
    for story in data["stories"]:
        assert set(story) >= CONTRACT
        assert_spans_exact(story, _texts([demo_dir]))
        for fig in story["figures"]:
            assert fig["status"] in {"agree", "conflict", "single-source"}
            for m in fig["mentions"]:
                assert isinstance(m["value"], (int, float))


@pytest.mark.parametrize("fmt,marker", [("text", "Summary"), ("markdown", "# newsweave report"), ("html", "<h1>")])
def test_cli_analyze_human_formats(demo_dir: Path, fmt: str, marker: str) -> None:
    result = CliRunner().invoke(main, ["analyze", str(demo_dir), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert marker in result.stdout
    assert "Halden Dam" in result.stdout


def test_cli_analyze_reports_bad_files_and_exits_1(demo_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "zero.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(main, ["analyze", str(demo_dir / "kxnw-orchard-robots.txt"), str(bad)])
    assert result.exit_code == 1
    assert f"error: {bad}: empty file" in result.stderr
    assert "Pellworth" in result.stdout


def test_cli_ingest_stories_show_round_trip(demo_dir: Path, fresh_db: str) -> None:
    runner = CliRunner()
    r = runner.invoke(main, ["ingest", str(demo_dir), "--db", fresh_db])
    assert r.exit_code == 0, r.output
    assert "4 added" in r.stderr
    r = runner.invoke(main, ["ingest", str(demo_dir), "--db", fresh_db])
    assert "0 added, 4 unchanged" in r.stderr
    r = runner.invoke(main, ["stories", "--db", fresh_db, "--format", "json"])
    data = json.loads(r.stdout)
    assert sorted(len(s["articles"]) for s in data["stories"]) == [1, 3]
    sid = next(s["id"] for s in data["stories"] if len(s["articles"]) == 3)
    r = runner.invoke(main, ["show", sid, "--db", fresh_db, "--format", "json"])
    assert json.loads(r.stdout)["stories"][0]["id"] == sid
    r = runner.invoke(main, ["show", "s-missing", "--db", fresh_db])
    assert r.exit_code != 0 and "no story 's-missing'" in r.stderr


def test_cli_db_from_environment(demo_dir: Path, fresh_db: str) -> None:
    runner = CliRunner(env={"NEWSWEAVE_DB": fresh_db})
    runner.invoke(main, ["ingest", str(demo_dir / "kxnw-orchard-robots.txt")])
    assert Path(fresh_db).exists()
    r = runner.invoke(main, ["stories"])
    assert "Pellworth" in r.stdout


def test_cli_cluster_prints_one_line_per_article_in_input_order(tmp_path: Path, demo_dir: Path) -> None:
    from newsweave.ingest import read_paths
    from newsweave.models import Article

    arts = [a for a in read_paths([demo_dir]) if isinstance(a, Article)]
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(json.dumps({"id": a.id, "title": a.title, "text": a.text}) for a in arts) + "\n")
    r = CliRunner().invoke(main, ["cluster", str(p), "--format", "jsonl"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    assert [x["id"] for x in lines] == [a.id for a in arts]
    by_id = {x["id"]: x["story"] for x in lines}
    assert by_id["kxnw-larkmoor-dam"] == by_id["riverside-larkmoor-dam"] == by_id["gazette-larkmoor-dam"]
    assert by_id["kxnw-orchard-robots"] != by_id["kxnw-larkmoor-dam"]


def test_cli_seeds_form_one_story_with_every_section_filled(seeds_dir: Path) -> None:
    result = CliRunner().invoke(main, ["analyze", *map(str, sorted(seeds_dir.glob("*.txt"))), "--format", "json"])
    assert result.exit_code == 0, result.output
    (story,) = json.loads(result.stdout)["stories"]
    assert len(story["articles"]) == 3
    for section in CONTRACT - {"id", "headline"}:
        assert story[section], f"section {section} is empty"
    assert_spans_exact(story, _texts([seeds_dir]))
