"""The only package that touches Twisted: instrument reactors, record dispatches."""
