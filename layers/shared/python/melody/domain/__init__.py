"""Domain logic: pure Python, no AWS SDK and no web framework (adapters come in through ports)."""
