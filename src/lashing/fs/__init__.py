"""The merged, read-only view of an image's layers or a directory."""

from lashing.fs.build import tree_from_directory, tree_from_image
from lashing.fs.tree import FileEntry, FileKind, FileTree, LayerVisitor, want_globs

__all__ = [
    "FileEntry",
    "FileKind",
    "FileTree",
    "LayerVisitor",
    "tree_from_directory",
    "tree_from_image",
    "want_globs",
]
