"""What a watched inbox turns into a run: the changed paths worth reading, seen as a run over the folder sees them."""

from __future__ import annotations

import os

import pytest
from watchfiles import Change

from conftest import cli
from newsdedup.flows.resident import watched_changes
from newsdedup.tasks.readers import InputEntry, Reject, list_inputs, read_inputs, open_context, within


def test_watched_changes_keep_added_and_modified_files_and_new_folders(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "a.jsonl").write_text("{}\n")
    (inbox / "sub" / "b.txt").write_text("x")
    (inbox / ".c.jsonl.part").write_text("x")
    (inbox / ".hidden").mkdir()
    (inbox / ".hidden" / "d.txt").write_text("x")
    (inbox / "newdir").mkdir()
    (inbox / "newdir" / "e.txt").write_text("x")
    (tmp_path / "outside.txt").write_text("x")
    changes = {(Change.added, str(inbox / "a.jsonl")), (Change.modified, str(inbox / "sub" / "b.txt")),
               (Change.added, str(inbox / ".c.jsonl.part")),  # a feed still writing it
               (Change.added, str(inbox / ".hidden" / "d.txt")),
               (Change.deleted, str(inbox / "gone.txt")),
               (Change.added, str(inbox / "vanished.txt")),  # gone again before the run
               (Change.modified, str(inbox / "sub")),  # a folder's own mtime: its files come by themselves
               (Change.added, str(inbox / "newdir")), (Change.added, str(inbox / "newdir" / "e.txt")),
               (Change.added, str(tmp_path / "outside.txt"))}
    assert watched_changes(changes, [inbox]) == [str(inbox / "a.jsonl"), str(inbox / "newdir"),
                                                 str(inbox / "sub" / "b.txt")]


def test_within_sees_changed_files_as_the_folder_walk_does(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "sub/c.txt", "sub/d.csv"):
        (inbox / name).write_text("نص", encoding="utf-8")
    listing = list(list_inputs([str(inbox)]))
    picked = within(listing, [str(inbox / "b.txt"), str(inbox / "sub")])
    assert [x.display for x in picked if isinstance(x, InputEntry)] == \
        [str(inbox / "b.txt"), str(inbox / "sub" / "c.txt"), str(inbox / "sub" / "d.csv")]
    full = {x.display: x for x in listing if isinstance(x, InputEntry)}
    assert all(full[x.display] == x for x in picked)  # same display, real path and folder-relative name
    assert within(listing, None) == listing
    assert within(listing, []) == []
    rejects = list(list_inputs([str(inbox / "missing")]))
    assert isinstance(rejects[0], Reject)
    assert within(rejects, [str(inbox)]) == rejects and within(rejects, [str(tmp_path / "other")]) == []


def test_rows_of_other_manifest_files_are_no_rejects_when_only_some_inputs_are_read(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("نص أول", encoding="utf-8")
    manifest = tmp_path / "m.csv"
    manifest.write_text("file,outlet\na.txt,ألف\nb.txt,باء\n", encoding="utf-8")
    entries = [x for x in list_inputs([str(inbox)]) if isinstance(x, InputEntry)]
    ctx, _ = open_context(manifest=manifest)
    every = list(read_inputs(entries, ctx, manifest=manifest))
    assert [r.reason for r in every if isinstance(r, Reject)] == ["manifest names a file that was not in the inputs: b.txt"]
    ctx, _ = open_context(manifest=manifest)
    some = list(read_inputs(entries, ctx, manifest=manifest, unused=False))
    assert not [r for r in some if isinstance(r, Reject)] and some[0].outlet == "ألف"


@pytest.mark.parametrize("args, message", [
    (["serve", "X"], "serve needs --cron EXPR, --watch, or both"),
    (["serve", "X", "--watch", "--fresh-process"], "--watch runs in the serving process"),
    (["serve", "X", "--cron", "* * * * *", "--limit", "2"], "--limit above 1 needs --fresh-process"),
    (["serve", "X", "--watch", "--debounce", "0"], "--debounce must be a positive number"),
    (["serve", "X", "--watch", "--alert-outlets", "1"], "--alert-outlets='1': a claim spreads from 2 outlets up"),
    (["run", "--alert-outlets", "1"], "--alert-outlets='1'"),
])
def test_serve_and_run_refuse_what_cannot_work_before_starting_anything(args, message, tmp_path):
    proc = cli(*args, env={"NEWSDEDUP_HOME": str(tmp_path / "home")}, check=False, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert not (tmp_path / "home" / "prefect").exists()  # no server was started for it


def test_bad_alert_setting_in_the_environment_is_named(tmp_path):
    proc = cli("run", env={"NEWSDEDUP_HOME": str(tmp_path / "home"), "NEWSDEDUP_ALERT_OUTLETS": "many"},
               check=False, timeout=60)
    assert proc.returncode == 2 and "NEWSDEDUP_ALERT_OUTLETS='many': expected a whole number" in proc.stderr
    assert os.environ.get("NEWSDEDUP_ALERT_OUTLETS") is None
