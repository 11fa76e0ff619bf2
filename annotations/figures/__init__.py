"""Asymptote diagrams in problem text: find the blocks, render them sandboxed, sanitize the SVG. No Django."""
