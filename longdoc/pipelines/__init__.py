"""Pipelines: the LangGraph graphs that wire agents into longdoc's jobs (the only place that
knows about langgraph), each with one async entry and its synchronous twin
(`longdoc.aio.sync_entry`).

    chain/          Chain-of-Agents reading: ask and summarize (models, budget, order,
                    prepare, graph, citations, run)
    xl3m            the XL3M strategy: key context selected by relevance, then answered
    condense        a repository fitted into a reading budget, for summaries on slow models
    agent_write     AgentWrite: plan, write the sections in turn, assemble
    section_file    a long write's output file, grown one whole section at a time
    length_eval     length evaluation in the LongBench-Write way
    checkpoints     the SQLite checkpoint stores (inline, batched) and their row format
    dataset/        long-write dataset generation over one process, worker processes or Ray
    ray_runtime     joining a Ray cluster for `--ray`
"""
