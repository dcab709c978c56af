"""The calendar and the address book the CalDAV/CardDAV benchmarks load, built with
``icalendar`` and ``vobject`` (pinned in ``bench/requirements.txt``).

Object *i* depends only on the seed and *i*, so every server gets the same bytes:

* **events** (``events(count, seed)``): one calendar object resource each, spread over three
  years (2025-01-01 to 2027-12-31), mostly on weekdays in office hours. About 10 % recur
  (weekly, daily, monthly or yearly, with COUNT, UNTIL or no end); a third of those have
  EXDATEs and a fifth carry overridden instances (a second VEVENT with RECURRENCE-ID in the
  same resource). About 3 % are all-day (some over several days). Timed events are in
  Europe/Paris (with its VTIMEZONE, as clients send it) or in UTC. Half have an organizer
  and attendees, 40 % a VALARM.
* **contacts** (``contacts(count, seed)``): vCards, 80 % in version 3.0 and 20 % in 4.0,
  with accented names, one to three e-mail addresses and phone numbers, an organisation,
  often a title and an address.

``windows(kind, count, seed)`` gives the time ranges the queries ask for: whole weeks
(Monday 00:00 UTC, 7 days) and whole months, at random positions in the three years.

    .venv/bin/python bench/calendar/dataset.py [--events 10000] [--contacts 10000] [--out DIR]

prints the sizes and the mix, and with ``--out`` writes the objects as files.
"""

from __future__ import annotations

import argparse
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import vobject

START = date(2025, 1, 1)
END = date(2027, 12, 31)  # the last day events start on
DAYS = (END - START).days + 1
PARIS = ZoneInfo("Europe/Paris")
PRODID = "-//Hexagone//calendar benchmark//FR"
STAMP = datetime(2024, 12, 1, 9, 0, tzinfo=UTC)  # DTSTAMP and CREATED: fixed, never "now"

FIRST_NAMES = [
    "Émilie", "François", "Hélène", "Jérôme", "Chloé", "Benoît", "Gaëlle", "Anaïs", "Loïc", "Noël",
    "Zoé", "Raphaël", "Maëlys", "Léa", "Thérèse", "Cédric", "Agnès", "Stéphane", "Inès", "Joël",
    "Marie", "Pierre", "Camille", "Nicolas", "Sophie", "Julien", "Élodie", "Mathieu", "Aurélie", "Frédéric",
    "Björn", "Åsa", "José", "Núria", "Øystein", "Małgorzata", "Dvořák", "Zoë", "Jürgen", "Ana",
]  # fmt: skip
LAST_NAMES = [
    "Lefèvre", "Gérard", "Bélanger", "Dupré", "Lemaître", "Bénard", "Côté", "Pénicaud", "Hébert", "Mérieux",
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Müller", "Ødegaard", "Núñez", "Ström", "Kowalczyk", "D'Aubigné", "Le Goff", "Saint-Exupéry", "Fañch", "Çelik",
]  # fmt: skip
ORGS = [
    "Ministère de l'Économie", "Préfecture de la Région Île-de-France", "Mairie de Besançon",
    "Caisse des Dépôts", "Université Paris-Saclay", "Hôpital Necker", "Société Générale d'Études",
    "Régie des Eaux de Nîmes", "Agence Nationale de la Sécurité", "Conseil Départemental de l'Hérault",
]  # fmt: skip
TITLES = ["Chef de projet", "Directrice adjointe", "Ingénieur", "Chargée de mission", "Secrétaire général", "Analyste"]
SUBJECTS = [
    "Réunion d'équipe", "Point hebdomadaire", "Comité de pilotage", "Entretien annuel", "Revue de code",
    "Déjeuner avec les partenaires", "Formation sécurité", "Atelier conception", "Point budget",
    "Visite du chantier", "Rendez-vous médical", "Séminaire stratégie", "Démonstration produit",
    "Audit de conformité", "Conseil d'administration", "Café avec l'équipe",
]  # fmt: skip
PLACES = ["Salle Voltaire", "Salle Curie", "Visio", "Bureau 312", "Siège, 4e étage", "Lyon Part-Dieu", ""]
DOMAINS = ["example.fr", "gouv.example", "mairie.example", "exemple.org"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]
FOLD = str.maketrans({"ø": "o", "ł": "l", "å": "a", "ç": "c"})


@dataclass(frozen=True)
class Item:
    index: int
    uid: str
    name: str  # the resource name in the collection: uid + ".ics" / ".vcf"
    data: bytes
    recurring: bool = False


# --------------------------------------------------------------------------- events


def paris_vtimezone() -> icalendar.Timezone:
    """Europe/Paris as clients write it: two rules, not a list of transitions."""
    tz = icalendar.Timezone()
    tz.add("tzid", "Europe/Paris")
    tz.add("x-lic-location", "Europe/Paris")
    summer = icalendar.TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    winter = icalendar.TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz


def _local_part(first: str, last: str) -> str:
    """``Émilie``, ``D'Aubigné`` -> ``emilie.daubigne``: addresses in ASCII, as most are."""
    text = unicodedata.normalize("NFKD", f"{first}.{last}".lower().translate(FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).replace(" ", "-").replace("'", "")


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return f"{first} {last}", f"{_local_part(first, last)}@{rng.choice(DOMAINS)}"


def _address(name: str, email: str, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{email}")
    address.params["CN"] = name
    for key, value in params.items():
        address.params[key.upper()] = value
    return address


def _start(rng: random.Random) -> date:
    """A day in the three years, weekdays four times as likely as weekends."""
    while True:
        day = START + timedelta(days=rng.randrange(DAYS))
        if day.weekday() < 5 or rng.random() < 0.25:
            return day


def _base_event(rng: random.Random, uid: str, index: int) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", uid)
    event.add("dtstamp", STAMP)
    event.add("created", STAMP)
    event.add("last-modified", STAMP + timedelta(minutes=index))
    event.add("sequence", 0)
    event.add("summary", f"{rng.choice(SUBJECTS)} n° {index}")
    if rng.random() < 0.6:
        event.add("description", f"Ordre du jour :\n1. Suivi des actions\n2. Questions diverses\n\nRéf. {uid}")
    if place := rng.choice(PLACES):
        event.add("location", place)
    if rng.random() < 0.2:
        event.add("categories", [rng.choice(["Travail", "Projet", "Personnel", "Déplacement"])])
    return event


def _attendees(rng: random.Random, event: icalendar.Event) -> None:
    organizer_name, organizer_email = _person(rng)
    event.add("organizer", _address(organizer_name, organizer_email))
    for _ in range(rng.randint(1, 8)):
        name, email = _person(rng)
        partstat = rng.choice(["ACCEPTED", "ACCEPTED", "TENTATIVE", "NEEDS-ACTION", "DECLINED"])
        event.add(
            "attendee",
            _address(name, email, role="REQ-PARTICIPANT", partstat=partstat, cutype="INDIVIDUAL", rsvp="TRUE"),
        )


def _alarm(rng: random.Random, event: icalendar.Event) -> None:
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", "Rappel")
    alarm.add("trigger", -timedelta(minutes=rng.choice([5, 10, 15, 30, 60])))
    event.add_component(alarm)


def event(index: int, seed: int = 0) -> Item:
    """Event number ``index``: the same bytes for the same seed and index."""
    rng = random.Random(f"event-{seed}-{index}")
    uid = f"bench-{seed}-event-{index:06d}@hexagone.test"
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    master = _base_event(rng, uid, index)
    day = _start(rng)
    kind = rng.random()
    all_day = kind < 0.03
    recurring = 0.03 <= kind < 0.13
    tz = PARIS if rng.random() < 0.7 else UTC
    overrides: list[icalendar.Event] = []
    if all_day:
        master.add("dtstart", day)
        master.add("dtend", day + timedelta(days=rng.choice([1, 1, 1, 2, 3, 5])))
        master.add("transp", "TRANSPARENT")
    else:
        hour = rng.choice([8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17])
        start = datetime(day.year, day.month, day.day, hour, rng.choice([0, 0, 15, 30, 45]), tzinfo=tz)
        length = timedelta(minutes=rng.choice([15, 30, 30, 45, 60, 60, 60, 90, 120, 180]))
        master.add("dtstart", start)
        master.add("dtend", start + length)
        if rng.random() < 0.5:
            _attendees(rng, master)
        if rng.random() < 0.4:
            _alarm(rng, master)
        if recurring:
            overrides = _recur(rng, master, start, length)
    if tz is PARIS and not all_day:
        cal.add_component(paris_vtimezone())
    cal.add_component(master)
    for override in overrides:
        cal.add_component(override)
    return Item(index, uid, f"event-{index:06d}.ics", cal.to_ical(), recurring)


def _recur(rng: random.Random, master: icalendar.Event, start: datetime, length: timedelta) -> list[icalendar.Event]:
    """Make ``master`` recur; returns the overridden instances to add beside it."""
    pick = rng.random()
    rule: dict[str, object]
    if pick < 0.6:
        interval = 2 if rng.random() < 0.3 else 1
        rule, step = {"freq": "weekly"}, timedelta(weeks=interval)
        if interval > 1:
            rule["interval"] = interval
        if start.weekday() < 5:
            rule["byday"] = WEEKDAYS[start.weekday()]
    elif pick < 0.75:
        rule, step = {"freq": "daily", "byday": WEEKDAYS}, timedelta(days=1)
    elif pick < 0.95:
        rule, step = {"freq": "monthly", "bymonthday": start.day}, timedelta(days=31)
    else:
        rule, step = {"freq": "yearly"}, timedelta(days=366)
    end = rng.random()
    if end < 0.5:
        count = rng.choice([5, 10, 12, 20, 26, 52])
        rule["count"] = count
    elif end < 0.9:
        days = rng.choice([30, 90, 180, 365])
        rule["until"] = (start + timedelta(days=days)).astimezone(UTC)
        count = days // step.days
    else:  # no end, as a standing weekly meeting has
        count = 52
    master.add("rrule", rule)
    overrides: list[icalendar.Event] = []
    if rule["freq"] != "weekly" or count < 3:
        return overrides
    # start + n weeks is an instance of a weekly rule (same local time, DST or not)
    later = list(range(1, count))
    if rng.random() < 0.33:
        removed = sorted(rng.sample(later[:6], min(len(later[:6]), rng.randint(1, 2))))
        master.add("exdate", [start + step * n for n in removed])
        later = [n for n in later if n not in removed]
    if later and rng.random() < 0.2:
        original = start + step * rng.choice(later[:10])
        moved = icalendar.Event()
        for key in ("uid", "location", "organizer"):
            if key in master:
                moved[key] = master[key]
        moved.add("summary", f"{master['summary']} (déplacé)")
        moved.add("dtstamp", STAMP)
        moved.add("recurrence-id", original)
        moved.add("sequence", 1)
        moved.add("dtstart", original + timedelta(hours=1))
        moved.add("dtend", original + timedelta(hours=1) + length)
        overrides.append(moved)
    return overrides


def events(count: int, seed: int = 0) -> Iterator[Item]:
    for i in range(count):
        yield event(i, seed)


def changed_event(item: Item, revision: int) -> bytes:
    """``item`` as a client that edited it would PUT it back: SUMMARY, SEQUENCE and
    LAST-MODIFIED changed."""
    cal = icalendar.Calendar.from_ical(item.data)
    for component in cal.walk("VEVENT"):
        if "recurrence-id" in component:
            continue
        component["summary"] = icalendar.vText(f"{component['summary']} (modifié {revision})")
        component.pop("sequence", None)
        component.add("sequence", revision)
        component.pop("last-modified", None)
        component.add("last-modified", STAMP + timedelta(days=400, minutes=revision))
    return cal.to_ical()


# --------------------------------------------------------------------------- contacts


def contact(index: int, seed: int = 0) -> Item:
    """Contact number ``index``: a vCard 3.0, or 4.0 for one in five."""
    rng = random.Random(f"contact-{seed}-{index}")
    uid = f"bench-{seed}-contact-{index:06d}@hexagone.test"
    version4 = rng.random() < 0.2
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    card = vobject.vCard()
    card.add("version").value = "4.0" if version4 else "3.0"
    card.add("prodid").value = PRODID
    card.add("uid").value = uid
    card.add("fn").value = f"{first} {last}"
    card.add("n").value = vobject.vcard.Name(family=last, given=first)
    org = rng.choice(ORGS)
    card.add("org").value = [org, rng.choice(["Direction numérique", "Service juridique", "Ressources humaines"])]
    if rng.random() < 0.7:
        card.add("title").value = rng.choice(TITLES)
    local = _local_part(first, last)
    for n, kind in enumerate(rng.sample(["work", "home", "other"], rng.randint(1, 3))):
        email = card.add("email")
        email.value = f"{local}{'' if n == 0 else n}@{rng.choice(DOMAINS)}"
        email.type_param = kind if version4 else kind.upper()
    for kind in rng.sample(["cell", "work", "home", "fax"], rng.randint(1, 3)):
        number = f"+33 {rng.randint(1, 9)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        tel = card.add("tel")
        if version4:
            tel.value = "tel:" + number.replace(" ", "")
            tel.params["VALUE"] = ["uri"]
            tel.type_param = kind
        else:
            tel.value = number
            tel.type_param = kind.upper()
    if rng.random() < 0.5:
        adr = card.add("adr")
        adr.value = vobject.vcard.Address(
            street=f"{rng.randint(1, 120)} rue de l'Église", city=rng.choice(["Paris", "Besançon", "Nîmes", "Montréal"]),
            code=f"{rng.randint(10, 95)}{rng.randint(0, 999):03d}", country="France",
        )  # fmt: skip
        adr.type_param = "work" if version4 else "WORK"
    if rng.random() < 0.2:
        card.add("note").value = f"Rencontré·e au salon « Numérique & Territoires », {org}."
    card.add("rev").value = (STAMP + timedelta(minutes=index)).strftime("%Y%m%dT%H%M%SZ")
    data = card.serialize().encode()
    return Item(index, uid, f"contact-{index:06d}.vcf", data)


def contacts(count: int, seed: int = 0) -> Iterator[Item]:
    for i in range(count):
        yield contact(i, seed)


def changed_contact(item: Item, revision: int) -> bytes:
    card = vobject.readOne(item.data.decode())
    card.fn.value = f"{card.fn.value} ({revision})"
    card.rev.value = (STAMP + timedelta(days=400, minutes=revision)).strftime("%Y%m%dT%H%M%SZ")
    return card.serialize().encode()


# --------------------------------------------------------------------------- time ranges


def windows(kind: str, count: int, seed: int = 0) -> list[tuple[datetime, datetime]]:
    """``count`` time ranges of one ``week`` (Monday 00:00 UTC to the next Monday) or one
    ``month`` (the first to the first), at random positions in the three years."""
    rng = random.Random(f"windows-{kind}-{seed}")
    out = []
    for _ in range(count):
        if kind == "week":
            monday = START - timedelta(days=START.weekday()) + timedelta(weeks=rng.randrange(DAYS // 7))
            start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
            out.append((start, start + timedelta(days=7)))
        elif kind == "month":
            months = rng.randrange(36)
            year, month = START.year + months // 12, months % 12 + 1
            nxt = (year + 1, 1) if month == 12 else (year, month + 1)
            out.append((datetime(year, month, 1, tzinfo=UTC), datetime(*nxt, 1, tzinfo=UTC)))
        else:
            raise ValueError(kind)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the objects as files into this folder")
    args = parser.parse_args()
    sizes, recurring, overridden, exdates, all_day, paris, attendees, alarms = [], 0, 0, 0, 0, 0, 0, 0
    for item in events(args.events, args.seed):
        text = item.data
        sizes.append(len(text))
        recurring += item.recurring
        overridden += b"RECURRENCE-ID" in text
        exdates += b"EXDATE" in text
        all_day += b"DTSTART;VALUE=DATE:" in text
        paris += b"BEGIN:VTIMEZONE" in text
        attendees += b"ATTENDEE" in text
        alarms += b"BEGIN:VALARM" in text
        if args.out:
            (args.out / "events").mkdir(parents=True, exist_ok=True)
            (args.out / "events" / item.name).write_bytes(text)
    n = max(len(sizes), 1)
    print(
        f"{len(sizes)} events, {sum(sizes) / 1024:.0f} KiB (mean {sum(sizes) / n:.0f} B): "
        f"{recurring} recurring ({exdates} with EXDATE, {overridden} with overridden instances), "
        f"{all_day} all-day, {paris} in Europe/Paris, {attendees} with attendees, {alarms} with an alarm"
    )
    csizes, v4 = [], 0
    for item in contacts(args.contacts, args.seed):
        csizes.append(len(item.data))
        v4 += b"VERSION:4.0" in item.data
        if args.out:
            (args.out / "contacts").mkdir(parents=True, exist_ok=True)
            (args.out / "contacts" / item.name).write_bytes(item.data)
    n = max(len(csizes), 1)
    print(f"{len(csizes)} contacts, {sum(csizes) / 1024:.0f} KiB (mean {sum(csizes) / n:.0f} B), {v4} in vCard 4.0")


if __name__ == "__main__":
    main()
