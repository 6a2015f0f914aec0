"""Batch reading: one `ask` or `summarize` per document of a corpus, one JSONL row each.

The corpus job (summarize 10,000 papers, ask one question of every contract): every path
given is a document, and every file under a folder given is one (hidden files and folders
skipped). Each document is read on its own with `longdoc.api` (Chain-of-Agents, as
`longdoc ask` and `longdoc summarize` read one), several at once: `parallel` documents in
threads of this process, or on Ray actors with `ray` (`ray_actors`).

OUT is crash-safe as the dataset's is (`dataset.output.JsonlAppender`: whole lines written
by this one process, fsynced, a torn last line cut on the next run). A row's `id` is a hash
of the document's absolute path and the task, so a rerun skips the documents OUT already
holds and reads the rest; a document interrupted mid-read resumes from its Chain-of-Agents
checkpoint in the cache folder. Rows:

    {"id", "path", "answer", "strategy", "chunks", "citations", "usage", "timings", ...}

the fields of `longdoc ask --json` (`AnswerResult.model_dump`, so new fields flow through),
beside the path. A document that cannot be read (missing, unreadable, no text) is a row
with its `error` instead, written once like any other: delete that row to read it again.
A model failure is reported and left for the rerun, never written.

    documents    one document: the task, its row id, reading it, its row or failure
    run          the run: documents listed and skipped, read, rows written, the report
    ray_actors   the documents read on Ray actors

Nothing is imported here; the entry is `run.run_batch`.
"""
