"""The mail module's descriptor: its listeners (IMAP, SMTP, submission), its pages and
its tables. Each part's package lists what it contributes."""

from __future__ import annotations

from pathlib import Path

from hexagone.core.i18n import N_
from hexagone.core.modules import Module, NavItem
from hexagone.mail import admin, api, cli, imap, policy, search, smtp, web  # noqa: F401 - policy registers ability rules
from hexagone.mail.migration import jobs as migration_jobs
from hexagone.mail.migration import org_export
from hexagone.mail.service import delivery, demo, relay, store, vacation

MODULE = Module(
    name="mail",
    label="Mail",
    package_dir=Path(__file__).parent,
    routes=[*web.ROUTES, *admin.ROUTES],
    public_routes=[*admin.PUBLIC_ROUTES],
    api_routers=[*api.ROUTERS],
    search_providers=[search.messages],
    nav=[*web.NAV],
    admin_nav=[NavItem(path="/mail/admin", label=N_("Mail"))],
    event_handlers={delivery.DELIVERED_AUTO_REPLY: [vacation.on_delivered]},
    servers=[*imap.SERVERS, *smtp.SERVERS],
    jobs=[store.GC, migration_jobs.IMPORT, relay.QUEUE],
    cli=cli.cli,
    export=org_export.export,
    models_module="hexagone.mail.models",
    demo=demo.seed,
)
