"""The CLI reference page, generated from the ``hamji`` argument parser (an MkDocs hook, and tested).

``mkdocs.yml`` names this file under ``hooks``; the marker line in
``docs/cli.md`` is replaced by every command's ``--help``, so the page can
never drift from the parser.
"""

from __future__ import annotations

import argparse

MARKER = "<!-- hamji-cli-reference -->"


def cli_reference() -> str:
    """Markdown: ``hamji --help``, then a section per command with its ``--help``."""
    from geo.cli_parser import make_parser

    parser = make_parser()
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100)
    parts = ["## hamji", "", "```text", parser.format_help().rstrip(), "```", ""]
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in commands.choices.items():
        command.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100)
        parts += [f"## hamji {name}", "", "```text", command.format_help().rstrip(), "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, **kwargs) -> str:
    """MkDocs hook: put the generated reference where the marker is."""
    return markdown.replace(MARKER, cli_reference()) if MARKER in markdown else markdown
