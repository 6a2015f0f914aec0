"""Evaluation harnesses: needle-in-a-haystack selection and long-document QA."""
