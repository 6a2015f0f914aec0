"""Imported only by multiprocessing's fork server of a dataset run (its preload list).

It readies what every dataset worker needs before any is forked, so that none pays for it:
longdoc itself; the parts of the openai client it imports only when the first client is made
(~100 ms, once here instead of once per worker); the TLS context every client shares (loading
the CA bundle: ~15-40 ms); and a frozen garbage collector generation: a worker starts with
~200k objects that a full collection would otherwise scan, ~100 ms in each worker before it
writes anything.
"""

import gc

import openai

from ...llm.openai_client import shared_tls_context
from . import workers  # noqa: F401  (imported for the workers forked from here)

# No request is made: the client only loads its modules (the address is never contacted).
openai.OpenAI(api_key="fork-server-warm-up", base_url="http://127.0.0.1:9/v1").close()
shared_tls_context()
gc.freeze()
