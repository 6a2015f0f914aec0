"""Long-write dataset generation (LongWriter-6k format): many prompts through AgentWrite.

The entry is `generate.generate_dataset` (`agenerate_dataset` in async code). Nothing is
imported here, so that `options` stays light for the command line's `--help`.

    options           how rows are generated and filtered (DatasetOptions)
    input             the prompts file: JSONL or one prompt a line, bad lines collected
    output            append-only, crash-safe JSONL files (OUT and the rejects)
    prompt            one prompt written and judged: row, reject or failure
    in_process        executor: every prompt in this process
    workers           executor: worker processes (forked from `forkserver`)
    ray_actors        executor: Ray actors, their checkpoints relayed (`checkpoint_relay`)
    generate          the run: ids, resumption, the one writer of the files, the report

Dependencies go one way: generate → executors → prompt → options, input.
"""
