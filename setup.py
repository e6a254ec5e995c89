from setuptools import setup; setup(cffi_modules=["reflow_cli/native/_build_queue.py:ffibuilder"])
