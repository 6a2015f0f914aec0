"""`python -m longdoc.testing --latency 0.1`: the OpenAI-compatible test server as its own process."""

from .openai_server import main

main()
