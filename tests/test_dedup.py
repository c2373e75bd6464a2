"""Document deduplication (tasks/dedup.py): what is a duplicate, what is not, and the index behind it."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from newsdedup.tasks.boilerplate import flag_boilerplate
from newsdedup.tasks.dedup import (PARAMS, DedupIndex, DedupParams, body_spans, compare, outlets_compatible,
                                   resolve, signature, text_key)
from newsdedup.tasks.segment import segment

BODY = ("أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة الرياض بسعة ثلاثمائة سرير، وقال الوزير إن "
        "المستشفى سيخدم سكان الأحياء الشمالية ويضم أقساما للطوارئ والأطفال والعناية المركزة.\n"
        "وأضاف أن المشروع تكلف 450 مليون ريال وأن العمل فيه استمر ثلاث سنوات بمشاركة شركات وطنية، "
        "مشيرا إلى أن الوزارة تخطط لافتتاح مستشفيين آخرين في جدة والدمام خلال العام المقبل.\n"
        "وأكد الوزير أن الكوادر الطبية السعودية ستشكل أكثر من نصف العاملين في المستشفى الجديد، "
        "وأن التوظيف سيبدأ الشهر المقبل عبر البوابة الإلكترونية للوزارة.")


def sig(text: str, params: DedupParams = PARAMS, title: str | None = None):
    """A signature computed the way the analysis does: segments, boilerplate flags, body."""
    segs = segment(text)
    return signature(text, body_spans(segs, flag_boilerplate(text, segs, title=title)),
                     hashlib.sha256(text.encode("utf-8")).hexdigest(), params, title)


def index_of(*texts: str, outlet: str | None = "o1") -> DedupIndex:
    ix = DedupIndex()
    for i, t in enumerate(texts):
        ix.add(f"d{i}", outlet, sig(t), "ar", 0.99)
    ix.commit()
    return ix


def kind(text: str, *stored: str, outlet: str | None = "o1", stored_outlet: str | None = "o1") -> str | None:
    hit = index_of(*stored, outlet=stored_outlet).find(sig(text), outlet)
    return hit.kind if hit else None


# ---------------------------------------------------------------------------- what is a duplicate
def test_identical_after_normalization():
    variant = BODY.replace("\n", "\r\n").replace("،", "، ").replace("الوزير", "الـوزير")
    assert text_key(variant) == text_key(BODY) and variant != BODY
    assert kind(BODY, BODY) == "identical"
    assert kind(variant, BODY) == "identical"


def test_changed_furniture_keeps_the_body():
    """Lines the document itself shows as boilerplate (a share widget, a related link between two
    paragraphs, a date line) are not part of the body: the copy has the same body."""
    lines = BODY.split("\n")
    widget = BODY + "\nشارك\nطباعة"
    related = "\n".join([lines[0], "اقرأ أيضا: الصحة تفتتح مركزا للقلب في تبوك", *lines[1:]])
    dated = "الاثنين 20 يوليو 2015\n" + BODY
    for copy in (widget, related, dated):
        assert kind(copy, BODY) == "same-body", copy[:40]


def test_edges_that_differ_are_near_duplicates():
    site = "رابط الخبر: https://www.example.com/news/2015/07/20/%D8%A7%D9%84%D8%B5%D8%AD%D8%A9-123456.html"
    assert kind(BODY + "\n" + site, BODY) == "near"  # the link counts two words, not dozens
    assert kind("كتب - محمد العتيبي\n" + BODY, BODY) == "near"  # a byline
    assert kind("جدة - " + BODY, BODY) == "near"  # a place prefix on the first paragraph
    assert kind("الرياض - واس\n" + BODY + "\nللمزيد: http://x.example/1", BODY) == "near"  # both ends


def test_edits_inside_the_text_make_another_version():
    assert kind(BODY.replace("450 مليون", "540 مليون"), BODY) is None  # a number in the middle
    assert kind(BODY.replace("أعلنت وزارة الصحة اليوم", "أعلنت وزارة الصحة أمس"), BODY) is None  # near the top
    longer = BODY + "\nوفي سياق متصل، أعلنت الوزارة عن حملة تطعيم جديدة تشمل جميع مناطق المملكة وتستمر شهرين كاملين " \
                    "بمشاركة أكثر من ألف فريق ميداني في المدن والقرى"
    assert kind(longer, BODY) is None  # a paragraph added: more words than an edge holds
    assert kind(BODY.split("\n")[0], BODY) is None  # one paragraph of three


def test_a_stub_is_not_the_article():
    """The full article is not a duplicate of a stub that only had its first sentence, nor the reverse."""
    stub = BODY.split("،")[0]
    assert kind(BODY, stub) is None
    assert kind(stub, BODY) is None


def test_short_texts_need_more_than_a_shared_opener():
    a = "رابط الخبر بصحيفة الوئام: بالصور .. رمضان في ليبيا"
    b = "رابط الخبر بصحيفة الوئام: بالصور .. رمضان في اندونيسيا"
    assert kind(b, a) is None
    # a byline on a short text whose words are all kept is still the same text, under the same title
    short = "وصل وزير الخارجية إلى القاهرة في زيارة رسمية"  # 8 words: a 3-word byline is 27 % of the copy
    title = "وزير الخارجية في القاهرة"
    ix = DedupIndex()
    ix.add("short", "o1", sig(short, title=title))
    ix.commit()
    assert ix.find(sig("بقلم: محمد العتيبي\n" + short, title=title), "o1").kind == "near"
    assert ix.find(sig("بقلم: محمد العتيبي\n" + short, title="زيارة أخرى"), "o1") is None  # another article
    # with a title missing, the words added must be lines of their own (a byline, a source line)
    assert ix.find(sig("بقلم: محمد العتيبي\n" + short), "o1").kind == "near"
    assert ix.find(sig(short + "\nالمصدر: واس"), "o1").kind == "near"
    assert ix.find(sig("بقلم: محمد العتيبي " + short), "o1") is None  # inside its one sentence
    assert ix.find(sig("قال مصدر إن وزير الخارجية وصل إلى القاهرة في زيارة رسمية"), "o1") is None
    untitled = DedupIndex()
    untitled.add("short", "o1", sig(short))
    untitled.commit()
    assert untitled.find(sig("بقلم: محمد العتيبي\n" + short, title=title), "o1").kind == "near"
    assert untitled.find(sig(short + " اليوم الأحد"), "o1") is None


def test_a_body_of_a_few_words_needs_its_title_too():
    """Scraping sometimes leaves only a caption's name as the text: such a body names no article by
    itself, so a copy with a byline or a place added is its duplicate only under the same title."""
    title = "الزمالك يستغني عن 10 لاعبين بعد الفوز بالدوري"

    def tsig(text: str, t: str | None):
        segs = segment(text)
        return signature(text, body_spans(segs, flag_boilerplate(text, segs, title=t)),
                         hashlib.sha256(text.encode()).hexdigest(), title=t)

    ix = DedupIndex()
    ix.add("page", "o1", tsig(" مرتضى منصور", title))
    ix.commit()
    for copy in ("لندن - مرتضى منصور", "مرتضى منصور\nرابط الخبر: https://example.com/a/1", "بقلم: محمد العتيبي\nمرتضى منصور"):
        hit = ix.find(tsig(copy, title), "o1")
        assert hit is not None and (hit.doc_id, hit.kind) == ("page", "near"), copy
        assert ix.find(tsig(copy, "مرتضى منصور يهاجم الحكم"), "o1") is None  # another page with that caption
        assert ix.find(tsig(copy, None), "o1") is None
    # the article itself, under the same title, is not a copy of the page that lost it
    full = "مرتضى منصور رئيس نادي الزمالك أعلن اليوم الاستغناء عن عشرة لاعبين من الفريق الأول بعد التتويج بلقب الدوري"
    assert ix.find(tsig(full, title), "o1") is None


def test_outlets():
    assert outlets_compatible("a", "a") and outlets_compatible(None, "a") and outlets_compatible("a", None)
    assert not outlets_compatible("a", "b")
    assert kind(BODY, BODY, outlet="o2", stored_outlet="o1") is None  # another outlet: reuse, not a duplicate
    assert kind(BODY, BODY, outlet=None, stored_outlet="o1") == "identical"
    assert kind(BODY + "\nشارك", BODY, outlet="o1", stored_outlet=None) == "same-body"


def test_empty_bodies_are_never_duplicates_of_each_other():
    a, b = "https://example.com/news/1\nشارك", "http://example.com/news/2\n…\nطباعة"  # a link, furniture
    assert sig(a).body is None and sig(b).body is None
    assert kind(b, a) is None
    assert kind(a, a) == "identical"  # the same text is still the same text


def test_a_page_with_no_body_is_named_by_its_title():
    """A page whose text is only furniture (a video page: «تعليقات ()») is the same page again under
    its title from its outlet, with a few words more (a source line) or none; never another title,
    another outlet, or a text that says something."""
    title = "حديث لاعبي النصر في الباص بعد مباراة الهلال"
    ix = DedupIndex()
    ix.add("video", "o1", sig(" \n تعليقات () ", title=title))
    ix.commit()
    assert sig(" \n تعليقات () ", title=title).n == 0
    for copy in ("Tuesday, 12 May 2015 - 10:17 am\n \n تعليقات ()\nالمصدر: www.arriyadiyah.com",
                 "تعليقات ()\nشارك"):
        hit = ix.find(sig(copy, title=title), "o1")
        assert hit is not None and (hit.doc_id, hit.kind) == ("video", "near"), copy
        assert ix.find(sig(copy, title="مباراة أخرى"), "o1") is None
        assert ix.find(sig(copy, title=title), "o2") is None
        assert ix.find(sig(copy), "o1") is None
    assert ix.find(sig(BODY, title=title), "o1") is None
    # and the other way round: the kept page has a few words, the newcomer none
    ix2 = DedupIndex()
    ix2.add("video", "o1", sig("المصدر: الرياضية\nتعليقات ()", title=title))
    ix2.commit()
    hit = ix2.find(sig(" \n تعليقات () ", title=title), "o1")
    assert hit is not None and hit.kind == "near"


# ---------------------------------------------------------------------------- the index
def test_first_stored_wins_and_the_strongest_kind_first():
    ix = DedupIndex()
    ix.add("first", "o1", sig(BODY + "\nشارك"))
    ix.add("second", "o1", sig(BODY))
    ix.commit()
    assert ix.find(sig(BODY + "\nطباعة"), "o1").doc_id == "first"  # same body as both: the first one
    assert ix.find(sig(BODY), "o1").doc_id == "second"  # identical beats same-body
    assert ix.find(sig("كتب - محمد العتيبي\n" + BODY), "o1").doc_id == "first"


def test_lookups_up_to_the_committed_part():
    ix = DedupIndex()
    ix.add("stored", "o1", sig(BODY))
    ix.commit()
    other = BODY.replace("450", "999")
    ix.add("this-run", "o1", sig(other))  # pending: visible to the flow, not to the workers
    assert ix.committed == 1 and len(ix) == 2
    assert ix.find(sig(other), "o1").doc_id == "this-run"
    assert ix.find(sig(other), "o1", upto=ix.committed) is None
    assert ix.find(sig(other + "\nشارك"), "o1", upto=5) is None  # never beyond what is committed
    assert ix.find_key(hashlib.sha256(BODY.encode()).hexdigest(), None).doc_id == "stored"
    ix.commit()
    assert ix.find(sig(other), "o1", upto=ix.committed).doc_id == "this-run"


def test_hit_carries_the_language_of_the_original():
    hit = index_of(BODY).find(sig(BODY + "\nشارك"), "o1")
    assert (hit.doc_id, hit.lang, hit.lang_confidence, hit.position) == ("d0", "ar", 0.99, 0)


def test_save_and_load(tmp_path):
    ix = index_of(BODY, "وصل وزير الخارجية إلى القاهرة صباح اليوم في زيارة رسمية تستغرق يومين")
    ix.add("pending", "o1", sig(BODY.replace("450", "777")))
    path = tmp_path / "dedup.pkl"
    ix.save(path, "T1")
    assert DedupIndex.load(path, "T2") is None and DedupIndex.load(path, None) is None
    assert DedupIndex.load(path, "T1", DedupParams(edge=10)) is None  # other thresholds: rebuilt
    got = DedupIndex.load(path, "T1")
    assert len(got) == 3 and got.committed == 3 and "pending" in got
    for copy, want in ((BODY + "\nللمزيد: http://x.example/1", "d0"), (BODY.replace("450", "777"), "pending")):
        assert got.find(sig(copy), "o1").doc_id == want


def test_rebuilt_from_stored_documents():
    """The flow rebuilds the index from stored documents (compact segments with flags); learned
    flags (``outlet-repeat``) stay in the body, duplicates are skipped."""
    segs = segment(BODY)
    flags = flag_boilerplate(BODY, segs)
    stored = [[s.start, s.end, s.line, s.sentence, "ar", 0.99, bp, r] for s, (bp, r) in zip(segs, flags)]
    stored[-1][6:8] = [True, "outlet-repeat"]
    sha = hashlib.sha256(BODY.encode()).hexdigest()
    docs = [{"doc_id": "a", "outlet": "o1", "text": BODY, "content_sha256": sha, "segments": stored,
             "lang": "ar", "lang_confidence": 0.9},
            {"doc_id": "b", "outlet": "o1", "text": BODY, "content_sha256": sha, "segments": [],
             "duplicate_of": "a"}]
    ix = DedupIndex.from_documents(docs)
    assert len(ix) == 1 and ix.find(sig(BODY + "\nشارك"), "o1").doc_id == "a"
    assert body_spans(stored) == [(s.start, s.end) for s, (bp, _) in zip(segs, flags) if not bp]


def _analysed(doc_id: str, text: str, title: str, seq: int) -> tuple[dict, dict]:
    """A read record and what the analysis gives ``resolve`` for it."""
    segs = segment(text)
    flags = flag_boilerplate(text, segs, title=title)
    rec = {"doc_id": doc_id, "_id": doc_id, "outlet": "o1", "title": title, "text": text, "ingest_seq": seq,
           "content_sha256": hashlib.sha256(text.encode()).hexdigest()}
    segments = [[s.start, s.end, s.line, s.sentence, "ar", 0.99, bp, r] for s, (bp, r) in zip(segs, flags)]
    return rec, {"doc_id": doc_id, "signature": sig(text, title=title), "segments": segments, "lang": "ar",
                 "lang_confidence": 0.99}


def test_a_copy_of_a_duplicate_is_a_duplicate_of_its_original():
    """Found on SaudiNewsNet ingested twice: two pages of one outlet whose scraped text is only the same
    photo caption, under two titles, the second recorded as a copy of the first; then the second page
    again from another export with a date line. A short text is only ever a copy under its own title,
    and its title is not the first page's: it must be found through the page it copies (an alias),
    and name the first page, also in an index rebuilt from the stored records."""
    caption = " مرتضى منصور"
    first, second = _analysed("k", caption, "مجلس الإدارة يتمسك برئيسه", 0), _analysed(
        "d", caption, "الفريق يستغني عن عشرة لاعبين", 1)
    ix = DedupIndex()
    kept, dups = resolve(ix, [first[0], second[0]], {"k": first[1], "d": second[1]})
    assert [r["doc_id"] for r in kept] == ["k"] and dups[0]["duplicate_of"] == "k"
    assert dups[0]["duplicate_body"] and len(ix) == 1 and ix.aliases == 1
    again = _analysed("d2", "جدة - مرتضى منصور", "الفريق يستغني عن عشرة لاعبين", 2)
    hit = ix.find(again[1]["signature"], "o1")
    assert hit is not None and hit.doc_id == "k"
    # without the alias (the first page alone) the copy is another page: its title differs
    alone = DedupIndex()
    alone.add("k", "o1", first[1]["signature"])
    assert alone.find(again[1]["signature"], "o1") is None
    # rebuilt from what the database stores (the kept record with segments, the duplicate with its body)
    stored = [{**kept[0]}, {**dups[0]}]
    rebuilt = DedupIndex.from_documents(stored)
    assert len(rebuilt) == 1 and rebuilt.find(again[1]["signature"], "o1").doc_id == "k"
    # a byte-for-byte copy skips analysis only under the stored title (else it is analysed, to be an alias)
    sha = hashlib.sha256(caption.encode()).hexdigest()
    assert rebuilt.find_key(sha, "o1", title="مجلس الإدارة يتمسك برئيسه").doc_id == "k"
    assert rebuilt.find_key(sha, "o1", title="الفريق يستغني عن عشرة لاعبين").doc_id == "k"  # the alias's title
    assert rebuilt.find_key(sha, "o1", title="عنوان ثالث") is None


def test_a_copy_under_its_originals_title_adds_no_alias():
    rec, a = _analysed("k", BODY, "عنوان", 0)
    rec2, a2 = _analysed("c", BODY + "\nشارك", "عنوان", 1)
    ix = DedupIndex()
    kept, dups = resolve(ix, [rec, rec2], {"k": a, "c": a2})
    assert dups[0]["duplicate_kind"] == "same-body" and "duplicate_body" not in dups[0] and ix.aliases == 0


# ---------------------------------------------------------------------------- the check itself
VOCAB = [f"w{i}" for i in range(12)]  # few words: repeats and false anchors on purpose
OTHER = [f"z{i}" for i in range(40)]


def _plain(words: list[str], title: str | None = "عنوان"):
    text = " ".join(words)
    return signature(text, [(0, len(text))] if text else [], hashlib.sha256(text.encode()).hexdigest(), title=title)


def _runs(a: list[str], b: list[str], edge: int):
    """Brute force: every maximal common run starting and ending within ``edge`` of both ends."""
    out = []
    for d in range(-edge, edge + 1):
        i = max(0, -d)
        while i < len(b):
            if 0 <= i + d < len(a) and a[i + d] == b[i]:
                j = i
                while j < len(b) and 0 <= j + d < len(a) and a[j + d] == b[j]:
                    j += 1
                if i <= edge and i + d <= edge and len(b) - j <= edge and len(a) - (j + d) <= edge:
                    out.append((j - i, i + d, len(a) - (j + d), i, len(b) - j))
                i = j
            else:
                i += 1
    return out


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(VOCAB), min_size=4, max_size=120), st.data())
def test_verdicts_are_real_common_runs(old_words, data):
    """Whatever compare() reports is a common run of the two word sequences, and when a run anchored
    within the edges at both ends exists, compare() finds one at least as long."""
    new_words = list(old_words)
    for _ in range(data.draw(st.integers(0, 4))):  # edits anywhere
        op = data.draw(st.sampled_from(["ins", "del", "sub"]))
        pos = data.draw(st.integers(0, len(new_words)))
        w = data.draw(st.sampled_from(VOCAB + OTHER))
        if op == "ins":
            new_words.insert(pos, w)
        elif new_words and pos < len(new_words):
            if op == "del":
                del new_words[pos]
            else:
                new_words[pos] = w
    new, old = _plain(new_words), _plain(old_words)
    v = compare(new, old.compact())
    if v is not None:
        assert v.core > 0
        assert new_words[v.head_new:len(new_words) - v.tail_new] == old_words[v.head_old:len(old_words) - v.tail_old]
    best = max(_runs(new_words, old_words, PARAMS.edge), default=None)
    if best is not None and len(new_words) >= PARAMS.shingle and best[0] >= PARAMS.shingle:
        assert v is not None and v.core >= best[0]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(VOCAB + OTHER[:20]), min_size=12, max_size=200),
       st.lists(st.sampled_from(OTHER[20:]), max_size=PARAMS.edge),
       st.lists(st.sampled_from(OTHER[20:]), max_size=PARAMS.edge))
def test_added_edges_are_found(body, head, tail):
    """A body with up to ``edge`` new words added at its head and tail is its near duplicate whenever
    the shared words are enough of both; the index finds it."""
    copy = head + body + tail
    ix = DedupIndex()
    ix.add("orig", None, _plain(body))
    ix.commit()
    hit = ix.find(_plain(copy), None)
    enough = len(body) >= PARAMS.min_core and len(body) >= PARAMS.min_share * len(copy)
    few = len(head) + len(tail) <= PARAMS.few
    if not head and not tail:
        assert hit is not None and hit.kind == "identical"
    elif enough or few:
        assert hit is not None and hit.doc_id == "orig" and hit.kind == "near"
    else:
        assert hit is None


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(VOCAB + OTHER[:20]), min_size=3 * PARAMS.edge, max_size=300), st.data())
def test_a_word_changed_inside_is_never_a_duplicate(body, data):
    pos = data.draw(st.integers(PARAMS.edge + 1, len(body) - PARAMS.edge - 2))
    copy = list(body)
    copy[pos] = "x" + copy[pos]
    ix = DedupIndex()
    ix.add("orig", None, _plain(body))
    ix.commit()
    assert ix.find(_plain(copy), None) is None


def test_sketch_and_ends_are_compact():
    s = sig(BODY * 5)
    assert s.n > 2 * PARAMS.window
    assert len(s.ends) == 2 * PARAMS.window and len(s.sketch) == PARAMS.sketch
    assert s.compact().ids is None and np.array_equal(s.compact().ends, s.ends)
    assert sig(BODY * 5).mid == s.mid and sig(BODY * 5).body == s.body
