"""A cross-framework autodiff conformance harness.

YAML cases (``cases/``) run on the reference engine, PyTorch, TensorFlow and JAX; each
(case, check, backend) gets a verdict. See ``docs/`` and the README.
"""

__version__ = "0.1.0"
