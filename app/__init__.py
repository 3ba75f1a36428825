"""linear-classify-demo: the CS231n linear-classification loss demo, served by FastAPI."""

__version__ = "1.1.0"
