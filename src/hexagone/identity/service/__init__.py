"""The identity service: the only entry other modules may call.

Each concept has its own file (orgs, users, spaces, groups, login, mfa, tokens) for
identity's own pages, API and CLI. Other modules import only the names in ``__all__``
from this package (tests/core/test_layering.py checks it): plain frozen dataclasses
(:class:`Person`, :class:`OrgInfo`, :class:`GroupInfo`) or the core ``Principal``,
never an ORM row, and the few rules every module shares (admin only, address forms).
"""

import hexagone.identity.policy  # noqa: F401 - registers the ability rules these services enforce
from hexagone.identity.service.directory import (
    ROLE_ADMIN,
    ROLE_GUEST,
    ROLE_USER,
    GroupInfo,
    OrgInfo,
    Person,
    group,
    group_members,
    group_names,
    members,
    org_domains,
    org_for_domain,
    org_groups,
    org_info,
    people_by_handles,
    people_by_ids,
    people_matching,
    person,
    person_by_email,
    share_a_space,
    space_names,
    space_people,
)
from hexagone.identity.service.login import clean_email, verify_module_credentials
from hexagone.identity.service.orgs import normalise_domain, require_admin
from hexagone.identity.service.principals import load_principal, principal_for_email
from hexagone.identity.service.users import normalise_email
from hexagone.identity.service.validation import add_unique, clean_label

__all__ = [
    "ROLE_ADMIN",
    "ROLE_GUEST",
    "ROLE_USER",
    "GroupInfo",
    "OrgInfo",
    "Person",
    "add_unique",
    "clean_email",
    "clean_label",
    "group",
    "group_members",
    "group_names",
    "load_principal",
    "members",
    "normalise_domain",
    "normalise_email",
    "org_domains",
    "org_for_domain",
    "org_groups",
    "org_info",
    "people_by_handles",
    "people_by_ids",
    "people_matching",
    "person",
    "person_by_email",
    "principal_for_email",
    "require_admin",
    "share_a_space",
    "space_names",
    "space_people",
    "verify_module_credentials",
]
