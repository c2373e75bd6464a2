"""Reading inputs into :class:`Document` or :class:`Reject`, robustly and as a stream.

Plain functions, no Prefect, no MongoDB. One walker (:func:`list_inputs`, in ``walk``) finds
every input file; :func:`digest_inputs` hashes each once (known inputs are skipped by the
flow); :func:`read_inputs` decodes each once (``decode``, ``records``, ``json_stream``,
``archives``, ``manifest``); :func:`iter_inputs` is the three in one for callers reading once.

Inputs (see CONTRACT.md, "Input")
---------------------------------
* A path is a file or a folder. Folders are walked recursively in sorted order (entries
  of each folder sorted by name, sub-folders visited at their sorted place). Symbolic
  links to folders are not followed (no loops); links to files are read.
* ``.txt`` → one document, ``external_id`` = file name without extension.
* ``.jsonl`` / ``.ndjson`` → one document per line (``record`` = line number, blank lines
  skipped). A malformed line is rejected alone; the other lines are kept. A ``.jsonl``
  file that turns out to hold one pretty-printed JSON array is read as ``.json``.
* ``.json`` → an array of records (``record`` = 1-based index), a single object (record 1),
  several concatenated objects / JSON lines (numbered in order), or an envelope object
  without a text field holding its records in a list under ``data``, ``articles``,
  ``items``, ``records`` or ``documents`` (numbered in that list). Arrays are parsed
  incrementally, record by record, so a large array is never held whole in memory.
  A truncated or malformed array keeps the records before the damage and rejects the
  rest with the position (line, column, record number).
* ``.gz`` holding any of these (``x.jsonl.gz``, ``x.json.gz``, ``x.txt.gz``) and ``.zip``
  archives holding any of these (members sorted by name, ``.gz`` members allowed) are
  read in place. A bad member rejects that member only. Nested ``.zip`` are rejected.
* Record fields: ``text`` (required, a non-empty string), ``id`` (str or number),
  ``title``, ``outlet``, ``url``, ``published``, ``language``; ``field_map`` renames them
  (``{"text": "content"}`` reads the text from key ``content``; dotted names such as
  ``meta.date`` reach into nested objects when no key with the dot exists).

Skipped silently: hidden files and folders (name starting with ``.``, which covers
``.DS_Store`` and macOS ``._*`` forks), ``__MACOSX/``, ``Thumbs.db``, ``desktop.ini``,
``~$*`` lock files, any ``manifest.csv`` and the ``--manifest`` file itself. Every other
unknown extension (``.csv``, ``.md``, ``.html`` ...) gives a Reject ``unsupported file type``.
Hidden files named explicitly as a PATH are read.

Text decoding (``.txt``)
------------------------
BOM first (UTF-8, UTF-16 LE/BE, UTF-32), then UTF-16 without BOM (recognised by the
zero/0x06 high bytes of Latin/Arabic text), then strict UTF-8, then UTF-8 with a few bad
bytes (only when the file clearly is UTF-8: far more valid multi-byte characters than bad
bytes; the bad bytes become U+FFFD and a note says how many), then legacy single-byte
encodings (``cp1256``, ``iso-8859-6``, ``iso-8859-1``, ``cp1252`` and the guess of
charset-normalizer), each decoded strictly and scored for plausibility (control
characters, words mixing Arabic and Latin letters, words made mostly of accented Latin
letters, stray symbols such as ``×÷``). The best plausible one wins; a tie between an
Arabic and a Latin code page goes to the one whose result has Arabic letters (or Latin
when it has none). Nothing plausible → Reject. Recognised binary signatures (PNG, JPEG,
PDF, zip, gzip, ELF, ...) and text with more than 3 % control characters (and more than
8 of them) are rejected as binary. ``encoding`` records the codec used (``utf-8``,
``utf-8-sig``, ``utf-16``, ``utf-16-le``, ``cp1256``, ``iso-8859-6``, ``iso-8859-1`` ...).
For JSON inputs it is the file's encoding (JSON is UTF-8 unless a BOM says otherwise); a
string field holding bytes that are not UTF-8 is re-decoded with the same detector, and
the document records that codec.

Clean-up, always noted in ``Document.notes``
--------------------------------------------
* NUL characters are removed (never meaningful in news text, and they break C tools,
  regexes and terminals); note ``removed N NUL character(s)``.
* Lone surrogates (from ``\\ud800``-style JSON escapes or undecodable bytes) cannot be
  stored as UTF-8 (MongoDB), so each becomes U+FFFD; note ``replaced N ...``.
* Nothing else is changed: CRLF stays CRLF, only a leading BOM is removed from ``.txt``.

Limits
------
``max_bytes`` (default 20 MB) bounds one document's text (UTF-8 bytes) and one ``.txt``
file (its size on disk or decompressed; an oversized file is rejected from its size
without being read). One JSON record / JSONL line may take ``4 × max_bytes + 1 MiB``
characters of JSON (escapes such as ``\\u0627`` take 6 characters per letter); a longer
line is skipped alone, a longer array element stops that file with a Reject. There is
no limit on the size of a ``.jsonl`` or ``.json`` file: both stream.

Manifest
--------
:func:`read_manifest` reads a CSV with header ``file,outlet,url,published,title`` (only
``file`` required; ``language`` also read; other columns ignored), in UTF-8 (BOM allowed)
or another encoding the detector recognises. A row matches an input file whose path as
given, path relative to the walked folder (or archive member path) or bare file name
equals the ``file`` cell (``.gz`` suffix optional). Its values fill the metadata of
``.txt`` documents and, as defaults for fields the record lacks, of JSON records. Empty
cells mean unknown. Rows naming no input file give Rejects after all inputs are read
(``record`` = line number in the CSV, header = line 1). An unusable manifest (missing,
no ``file`` column) raises ``ValueError`` when iteration starts: running without the
metadata asked for would silently store wrong outlets.

Identity: ``doc_id`` = first 24 hex digits of sha256 of ``source_kind``, ``external_id``
and ``content_sha256`` joined by U+001F (:func:`newsdedup.tasks.ids.make_doc_id`).
"""

from __future__ import annotations


from .decode import decode_bytes
from .inputs import digest_file, digest_inputs, iter_inputs, open_context, read_inputs
from .manifest import read_manifest
from .model import DEFAULT_MAX_BYTES, FIELDS, Document, InputEntry, InputFile, ReadContext, Reject
from .records import parse_map
from .walk import list_inputs

__all__ = [
    "Document", "Reject", "InputFile", "InputEntry", "ReadContext", "list_inputs", "digest_inputs", "digest_file",
    "open_context",
    "read_inputs", "iter_inputs", "parse_map", "read_manifest", "decode_bytes", "FIELDS", "DEFAULT_MAX_BYTES",
]
