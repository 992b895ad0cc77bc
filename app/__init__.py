"""Supplier Intelligence Exchange: UK council officers share what they learn about technology suppliers."""
