from lashing.cli import entry

entry()
