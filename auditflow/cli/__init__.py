"""``flask --app auditflow <command>``: every command, registered from here.

A refused command prints the Korean message with its stable code on stderr and
exits with status 1; nothing is written. Each command is one transaction,
committed once at its end (``common.committed``).
"""

from __future__ import annotations

from flask import Flask

from auditflow.cli.access import access_group
from auditflow.cli.backup import backup_group
from auditflow.cli.editions import EDITION_COMMANDS
from auditflow.cli.importing import import_command
from auditflow.cli.integrity import integrity_group
from auditflow.cli.jobs import reminders_group, worker_command
from auditflow.cli.production import production_group
from auditflow.cli.report import report_command
from auditflow.cli.seed import seed_command
from auditflow.cli.storage import storage_group
from auditflow.cli.summary import summary_command
from auditflow.cli.tokens import token_group
from auditflow.cli.users import user_group

COMMANDS = (seed_command, summary_command, report_command, user_group, storage_group,
            worker_command, reminders_group, import_command, token_group, integrity_group,
            access_group, backup_group, production_group)


def register(app: Flask) -> None:
    for subcommand in EDITION_COMMANDS:  # report issue | verify | diff
        report_command.add_command(subcommand)
    for command in COMMANDS:
        app.cli.add_command(command)
