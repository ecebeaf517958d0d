"""Renderers: each is a pure function from Report to text."""
