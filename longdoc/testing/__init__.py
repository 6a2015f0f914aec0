"""Helpers for testing and benchmarking longdoc without a real model endpoint."""

from .openai_server import Fault, OpenAITestServer, RecordedRequest, ServerStats

__all__ = ["Fault", "OpenAITestServer", "RecordedRequest", "ServerStats"]
