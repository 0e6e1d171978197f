"""Django's makemessages without fuzzy matching: a new string starts untranslated rather
than borrowing a neighbour's translation that says something else."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
