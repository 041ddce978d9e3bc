"""wanLLMDB SDK (placeholder; replaced below)."""
__version__ = "0.1.0"
