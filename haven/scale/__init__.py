"""The scale generator: invented missions, people and cases at a global size, for benchmarks.

It only ever generates synthetic data, and refuses an instance that holds anything else.
"""
