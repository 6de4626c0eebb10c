#!/usr/bin/env python3
"""Writes the sample input folder for `cycle-runner close --through 2026-11-30 --input samples`.

Deterministic (fixed seed), standard library only. Run from anywhere:

    python3 samples/make_samples.py            # writes next to this script
    python3 samples/make_samples.py --out DIR  # writes DIR/plans.yaml, DIR/usage/, ...

Every org is scripted: each billing period gets a credit budget (and, where a feature
depends on timing, segments with their own budgets) that is filled with randomly drawn
usage events of realistic cost. The budgets are what make the features show (rollover into
the bank and its cap, overdrafts under both policies, a pack that repays a deficit, a pack
that stays untouched until it is refunded, ...); the random draws only decide the details.
samples/README.md says which org shows what.
"""

import argparse
import calendar
import csv
import io
import os
import random
from datetime import date, datetime, timedelta, timezone

SEED = 20261130
UTC = timezone.utc

# The canonical catalog (identical to conformance/01-anchor-month-end/input/plans.yaml).
PLANS_YAML = """issuer:
  name: "ACT 3 Studios Ltd"
  street: "1 Stage Road"
  city: "London"
  postal_code: "EC1A 1AA"
  country: GB
  vat_id: GB123456789
  endpoint_id: "0088:5060000000009"
  iban: GB29NWBK60161331926819
  payment_terms_days: 14
  invoice_prefix: "INV-"
  credit_note_prefix: "CN-"
plans:
  - id: free
    name: Free
    rank: 0
    monthly_credits: 100
    bank_cap: 0
    prices: { USD: "0.00", EUR: "0.00", GBP: "0.00", JPY: "0" }
    topups: false
    overdraft: carry
  - id: community
    name: Community
    rank: 1
    monthly_credits: 500
    bank_cap: 250
    prices: { USD: "9.00", EUR: "8.50", GBP: "7.50", JPY: "1400" }
    topups: false
    rollover_max_age_months: 2
    overdraft: carry
  - id: standard
    name: Standard
    rank: 2
    monthly_credits: 2000
    bank_cap: 1000
    prices: { USD: "29.00", EUR: "27.00", GBP: "24.99", JPY: "4500" }
    topups: false
    rollover_max_age_months: 6
    overdraft: carry
  - id: business
    name: Business
    rank: 3
    monthly_credits: 10000
    bank_cap: 10000
    prices: { USD: "99.00", EUR: "95.00", GBP: "84.99", JPY: "15000" }
    topups: true
    overdraft: invoice
    overage_price: { USD: "0.0150", EUR: "0.0145", GBP: "0.0125", JPY: "2.25" }
  - id: enterprise
    name: Enterprise
    rank: 4
    custom: true
    topups: true
    overdraft: invoice
    overage_price: { USD: "0.0100", EUR: "0.0095", GBP: "0.0085", JPY: "1.5" }
packs:
  - id: pack-1k
    credits: 1000
    prices: { USD: "10.00", EUR: "9.50", GBP: "8.50", JPY: "1500" }
    valid_months: 3
  - id: pack-5k
    credits: 5000
    prices: { USD: "45.00", EUR: "42.00", GBP: "38.00", JPY: "6800" }
    valid_months: 12
  - id: pack-20k
    credits: 20000
    prices: { USD: "160.00", EUR: "150.00" }
actions:
  - { id: script,      label: "AI Script / Story Generation" }
  - { id: video_draft, label: "Generative Video Clip (draft Q=1, 720p)" }
  - { id: video_final, label: "Generative Video Clip (final Q=3, 4K)" }
  - { id: set_3d,      label: "3-D Set or Prop Generation" }
  - { id: tts,         label: "Text-to-Speech Dialogue" }
  - { id: upscale,     label: "Up-scaling" }
"""

# Credit cost range per action (what the platform debits for one job).
COST = {
    "script": (20, 80),
    "video_draft": (50, 200),
    "video_final": (300, 1500),
    "set_3d": (200, 800),
    "tts": (5, 30),
    "upscale": (40, 150),
}

# Action mixes (relative weights).
MIX_STUDIO = {"script": 14, "video_draft": 30, "video_final": 14, "set_3d": 10, "tts": 20, "upscale": 12}
MIX_SMALL = {"script": 30, "video_draft": 25, "tts": 35, "upscale": 10}
MIX_TINY = {"script": 40, "tts": 60}

ORG_COLUMNS = [
    "org_id", "name", "plan_id", "start_date", "currency", "country", "street", "city", "postal_code",
    "vat_category", "vat_rate", "vat_id", "endpoint_id", "buyer_reference", "monthly_credits", "bank_cap", "price",
]

# org_id, name, plan, start, currency, country, street, city, postal code, VAT category, rate,
# vat_id, endpoint_id, buyer_reference, (monthly_credits, bank_cap, price) for custom plans.
ORGS = [
    ("aurora-films", "Aurora Films Ltd", "standard", "2026-07-31", "GBP", "GB", "48 Dean Street", "London",
     "W1D 5BF", "S", "20", "", "0088:7300010000001", "PO-AUR-2026", None),
    ("bergmann-media", "Bergmann Media GmbH", "business", "2026-07-01", "EUR", "DE", "Schanzenstraße 22", "Köln",
     "51063", "S", "19", "DE287654321", "9930:DE287654321", "", None),
    ("harbour-lights", "Harbour Lights Productions Ltd", "business", "2026-07-15", "GBP", "GB",
     "Unit 7, Wapping Wharf", "Bristol", "BS1 4RH", "S", "20", "", "0088:7300010000018", "HL-2026-Q3", None),
    ("kiez-kollektiv", "Kiez Kollektiv e.V.", "community", "2026-08-29", "EUR", "DE", "Oranienstraße 25", "Berlin",
     "10999", "S", "19", "", "", "", None),
    ("lumiere-post", "Studio Lumière Post-Production SARL", "business", "2026-08-30", "EUR", "FR",
     "12 rue de la Roquette", "Paris", "75011", "K", "0", "FR40303265045", "", "LUM-PO-118", None),
    ("nordlicht-animation", "Nordlicht Animation GmbH", "enterprise", "2026-06-29", "EUR", "DE",
     "Speicherstadt, Block W", "Hamburg", "20457", "AE", "0", "DE123456789", "9930:DE123456789", "NL-PO-7781",
     ("40000", "20000", "1450.00")),
    ("northern-film-school", "Northern Film School", "standard", "2026-07-29", "GBP", "GB",
     "Broadcasting Place, Woodhouse Lane", "Leeds", "LS2 9EN", "E", "0", "", "", "NFS-MEDIA-LAB", None),
    ("open-archive-trust", "Open Archive Trust", "community", "2026-07-01", "GBP", "GB", "3 Mill Lane",
     "Manchester", "M1 2AB", "Z", "0", "", "", "", None),
    ("redline-games", "Redline Games LLC", "business", "2026-08-03", "USD", "US", "1 Market St, Floor 9",
     "San Francisco", "94105", "G", "0", "", "", "RG-AP-0042", None),
    ("smith-and-jones", "Smith & Jones <Films>", "standard", "2026-06-30", "USD", "US",
     "2200 Sunset Blvd, Suite 410", "Los Angeles", "90026", "G", "0", "", "", "", None),
    ("studio-okami", "Studio Ōkami 株式会社", "standard", "2026-07-30", "JPY", "JP", "神宮前2-14-5 渋谷区",
     "Tokyo", "150-0001", "G", "0", "", "", "", None),
    ("tiny-tales", "Tiny Tales Inc.", "free", "2026-08-31", "USD", "US", "88 Elm Street", "Portland", "97205", "G",
     "0", "", "", "", None),
]

# Users per org (the first ones do most of the work).
USERS = {
    "aurora-films": ["maya.chen", "tom.reid", "maya.chen", "tom.reid", "priya.nair"],
    "bergmann-media": ["k.bergmann", "s.yilmaz", "render-pipeline", "render-pipeline"],
    "harbour-lights": ["gwen.morgan", "ollie.price"],
    "kiez-kollektiv": ["lena.vogel", "deniz.kaya"],
    "lumiere-post": ["c.dubois", "m.laurent", "m.laurent"],
    "nordlicht-animation": ["render-bot", "render-bot", "j.hansen", "a.schulz"],
    "northern-film-school": ["tutor.hall", "student.ahmed", "student.lopez", "student.lopez"],
    "open-archive-trust": ["archivist", "volunteer.bea"],
    "redline-games": ["ci-pipeline", "ci-pipeline", "sam.ortiz", "dana.kim"],
    "smith-and-jones": ["rachel.smith", "dev.jones", "dev.jones"],
    "studio-okami": ["haruto.sato", "yui.tanaka"],
    "tiny-tales": ["ben.ng"],
}

# Budgets: per org, a list of (segment start, segment end, credits, action mix). Segment
# bounds are UTC; usage events are drawn inside [start, end). Periods follow the renewal
# calendar of SPEC §5 (see renewals()); the comments give the intended story.
SEGMENTS = {
    # Standard, anchor 31: renews 08-31, 09-30, 10-31, 11-30. Light use rolls into the bank
    # and hits the 1000 cap; one period (09-30 → 10-31) dips into the bank.
    "aurora-films": [
        ("2026-07-31", "2026-08-31", 1100, MIX_SMALL),
        ("2026-08-31", "2026-09-30", 1300, MIX_SMALL),
        ("2026-09-30", "2026-10-31", 2300, MIX_SMALL),
        ("2026-10-31", "2026-11-30", 1200, MIX_SMALL),
        ("2026-11-30", "2026-12-01", 150, MIX_SMALL),
    ],
    # Business EUR: the 10-01 → 11-01 period overdraws; invoice policy bills the deficit as
    # overage on the 2026-11-01 renewal invoice.
    "bergmann-media": [
        ("2026-07-01", "2026-08-01", 7000, MIX_STUDIO),
        ("2026-08-01", "2026-09-01", 9000, MIX_STUDIO),
        ("2026-09-01", "2026-10-01", 11000, MIX_STUDIO),
        ("2026-10-01", "2026-11-01", 16500, MIX_STUDIO),
        ("2026-11-01", "2026-12-01", 8000, MIX_STUDIO),
    ],
    # Business GBP, light: never leaves the current bucket, so its packs stay untouched
    # (pack-1k expires after 3 months, pack-5k is refunded); the bank hits the 10000 cap.
    "harbour-lights": [
        ("2026-07-15", "2026-08-15", 4000, MIX_STUDIO),
        ("2026-08-15", "2026-09-15", 5000, MIX_STUDIO),
        ("2026-09-15", "2026-10-15", 6000, MIX_STUDIO),
        ("2026-10-15", "2026-11-15", 5500, MIX_STUDIO),
        ("2026-11-15", "2026-12-01", 2500, MIX_STUDIO),
    ],
    # Community EUR, anchor 29: rolls into a 250 cap; lots age out after 2 months (11-29).
    "kiez-kollektiv": [
        ("2026-08-29", "2026-09-29", 300, MIX_SMALL),
        ("2026-09-29", "2026-10-29", 280, MIX_SMALL),
        ("2026-10-29", "2026-11-29", 350, MIX_SMALL),
        ("2026-11-29", "2026-12-01", 60, MIX_SMALL),
    ],
    # Business EUR (K), anchor 30: downgrade to Standard on 10-14 waits for the 10-30 renewal,
    # where Standard's 1000 cap trims the bank.
    "lumiere-post": [
        ("2026-08-30", "2026-09-30", 4000, MIX_STUDIO),
        ("2026-09-30", "2026-10-30", 5000, MIX_STUDIO),
        ("2026-10-30", "2026-11-30", 1800, MIX_SMALL),
        ("2026-11-30", "2026-12-01", 120, MIX_SMALL),
    ],
    # Enterprise (custom 40000/month, cap 20000), anchor 29. In 09-29 → 10-29 it spends the
    # bucket, the bank, all of pack-5k (expires first) and some of pack-20k before 10-27 12:00,
    # so the refund of pack-5k on 10-28 is rejected.
    "nordlicht-animation": [
        ("2026-06-29", "2026-07-29", 30000, MIX_STUDIO),
        ("2026-07-29", "2026-08-29", 34000, MIX_STUDIO),
        ("2026-08-29", "2026-09-29", 38000, MIX_STUDIO),
        ("2026-09-29", "2026-10-27T12:00:00", 64000, MIX_STUDIO),
        ("2026-10-28T12:00:00", "2026-10-29", 1500, MIX_STUDIO),
        ("2026-10-29", "2026-11-29", 36000, MIX_STUDIO),
        ("2026-11-29", "2026-12-01", 2000, MIX_STUDIO),
    ],
    # Standard GBP (E, exempt), anchor 29: steady use, occasionally from the bank.
    "northern-film-school": [
        ("2026-07-29", "2026-08-29", 1700, MIX_SMALL),
        ("2026-08-29", "2026-09-29", 2200, MIX_SMALL),
        ("2026-09-29", "2026-10-29", 1900, MIX_SMALL),
        ("2026-10-29", "2026-11-29", 1950, MIX_SMALL),
        ("2026-11-29", "2026-12-01", 90, MIX_SMALL),
    ],
    # Community GBP (Z): overdraws 09-01 → 10-01 (carry), and moves to Standard by a change
    # dated exactly at the 10-01 renewal; the community deficit is settled from the Standard bucket.
    "open-archive-trust": [
        ("2026-07-01", "2026-08-01", 400, MIX_SMALL),
        ("2026-08-01", "2026-09-01", 480, MIX_SMALL),
        ("2026-09-01", "2026-10-01", 700, MIX_SMALL),
        ("2026-10-01", "2026-11-01", 1500, MIX_SMALL),
        ("2026-11-01", "2026-12-01", 1700, MIX_SMALL),
    ],
    # Business USD: overdraws in October before 10-26 06:00, buys pack-5k on 10-26 which
    # repays the deficit first; the rest of the period draws the pack, so no overage.
    "redline-games": [
        ("2026-08-03", "2026-09-03", 8000, MIX_STUDIO),
        ("2026-09-03", "2026-10-03", 9500, MIX_STUDIO),
        ("2026-10-03", "2026-10-26T06:00:00", 14500, MIX_STUDIO),
        ("2026-10-26T09:00:00", "2026-11-03", 1500, MIX_STUDIO),
        ("2026-11-03", "2026-12-01", 7000, MIX_STUDIO),
    ],
    # Standard USD, anchor 30: overdraws 08-30 → 09-30 by more than a bucket (carry), the rest
    # carries on through 10-30; tries to buy a pack (rejected: Standard has no top-ups).
    "smith-and-jones": [
        ("2026-06-30", "2026-07-30", 1800, MIX_SMALL),
        ("2026-07-30", "2026-08-30", 2100, MIX_SMALL),
        ("2026-08-30", "2026-09-30", 4600, MIX_SMALL),
        ("2026-09-30", "2026-10-30", 900, MIX_SMALL),
        ("2026-10-30", "2026-11-30", 500, MIX_SMALL),
        ("2026-11-30", "2026-12-01", 80, MIX_SMALL),
    ],
    # Standard JPY, anchor 30: upgrade to Business at 2026-10-12T09:30+09:00 (proration in
    # credits and yen), heavier use after it, a pack-1k once on Business.
    "studio-okami": [
        ("2026-07-30", "2026-08-30", 1500, MIX_SMALL),
        ("2026-08-30", "2026-09-30", 1900, MIX_SMALL),
        ("2026-09-30", "2026-10-12", 1400, MIX_SMALL),
        ("2026-10-12T01:00:00", "2026-10-30", 5000, MIX_STUDIO),
        ("2026-10-30", "2026-11-30", 8000, MIX_STUDIO),
        ("2026-11-30", "2026-12-01", 300, MIX_SMALL),
    ],
    # Free USD, anchor 31: 100 credits a month, no bank (cap 0), overdraws 09-30 → 10-31 (carry);
    # its invoices are all zero, so none is issued.
    "tiny-tales": [
        ("2026-08-31", "2026-09-30", 70, MIX_TINY),
        ("2026-09-30", "2026-10-31", 160, MIX_TINY),
        ("2026-10-31", "2026-11-30", 40, MIX_TINY),
        ("2026-11-30", "2026-12-01", 25, MIX_TINY),
    ],
}

# European orgs write part of their timestamps in local time (CEST +02:00 until the
# 2026-10-25 01:00Z switch, CET +01:00 after); the Tokyo studio in +09:00.
LOCAL_OFFSET_SHARE = {
    "bergmann-media": 0.4, "kiez-kollektiv": 0.5, "lumiere-post": 0.4, "nordlicht-animation": 0.3,
    "studio-okami": 0.5,
}

TOPUPS = [  # purchase_id, org_id, purchased_at, pack_id
    ("pur-2026-0001", "harbour-lights", "2026-08-10T14:20:00Z", "pack-1k"),
    ("pur-2026-0002", "nordlicht-animation", "2026-08-12T09:15:00+02:00", "pack-20k"),
    ("pur-2026-0003", "smith-and-jones", "2026-09-18T16:05:00Z", "pack-1k"),
    ("pur-2026-0004", "nordlicht-animation", "2026-10-05T10:00:00+02:00", "pack-5k"),
    ("pur-2026-0005", "harbour-lights", "2026-10-20T11:00:00Z", "pack-5k"),
    ("pur-2026-0006", "redline-games", "2026-10-26T08:00:00Z", "pack-5k"),
    ("pur-2026-0007", "studio-okami", "2026-11-05T11:00:00+09:00", "pack-1k"),
    ("pur-2026-0008", "redline-games", "2026-11-10T17:45:00Z", "pack-20k"),
]

REFUNDS = [  # refund_id, purchase_id, refunded_at
    ("ref-2026-0001", "pur-2026-0005", "2026-10-23T09:00:00Z"),
    ("ref-2026-0002", "pur-2026-0004", "2026-10-28T10:00:00+01:00"),
]

PLAN_CHANGES = [  # org_id, effective_at, plan_id
    ("open-archive-trust", "2026-10-01T00:00:00Z", "standard"),
    ("studio-okami", "2026-10-12T09:30:00+09:00", "business"),
    ("lumiere-post", "2026-10-14T15:00:00+02:00", "standard"),
]

MEMBERS = [  # org_id, user_id, role, use_credits
    ("aurora-films", "maya.chen", "owner", "true"),
    ("aurora-films", "tom.reid", "editor", "true"),
    ("aurora-films", "priya.nair", "editor", "true"),
    ("aurora-films", "intern.jo", "viewer", "false"),
    ("kiez-kollektiv", "lena.vogel", "owner", "true"),
    ("kiez-kollektiv", "deniz.kaya", "editor", "true"),
    ("nordlicht-animation", "j.hansen", "admin", "true"),
    ("nordlicht-animation", "a.schulz", "editor", "true"),
    ("nordlicht-animation", "render-bot", "service", "true"),
    ("northern-film-school", "tutor.hall", "admin", "true"),
    ("northern-film-school", "student.ahmed", "member", "true"),
    ("northern-film-school", "student.lopez", "member", "true"),
    ("redline-games", "sam.ortiz", "owner", "true"),
    ("redline-games", "dana.kim", "editor", "true"),
    ("redline-games", "ci-pipeline", "service", "true"),
]

QUEUE = [  # org_id, job_id, action, credits
    ("aurora-films", "job-q-aur-001", "video_final", 720),
    ("aurora-films", "job-q-aur-002", "upscale", 90),
    ("aurora-films", "job-q-aur-003", "tts", 18),
    ("redline-games", "job-q-rg-101", "video_final", 1350),
    ("redline-games", "job-q-rg-102", "video_final", 1180),
    ("redline-games", "job-q-rg-103", "set_3d", 640),
    ("redline-games", "job-q-rg-104", "video_draft", 160),
    ("studio-okami", "job-q-ok-201", "set_3d", 420),
    ("studio-okami", "job-q-ok-202", "video_draft", 120),
]

RESENT_ORGS = ("aurora-films", "kiez-kollektiv", "redline-games")

CEST_END = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)


def parse_bound(text):
    if "T" in text:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    return datetime.fromisoformat(text + "T00:00:00").replace(tzinfo=UTC)


def add_months(d, months, anchor_day):
    """SPEC §5: the day is min(anchor day, days in the month)."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def fmt(instant, org, rng, force=None):
    """RFC 3339 text of a UTC instant: mostly Z, sometimes the org's local offset, a few with
    milliseconds."""
    offset = None
    if force is not None:
        offset = force
    elif rng.random() < LOCAL_OFFSET_SHARE.get(org, 0.0):
        if org == "studio-okami":
            offset = 9 * 60
        else:
            offset = 120 if instant < CEST_END else 60
    frac = ""
    if rng.random() < 0.08:
        frac = ".%03d" % rng.randrange(1, 1000)
    if offset is None:
        return instant.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    local = instant + timedelta(minutes=offset)
    sign = "+" if offset >= 0 else "-"
    return local.strftime("%Y-%m-%dT%H:%M:%S") + frac + "%s%02d:%02d" % (sign, abs(offset) // 60, abs(offset) % 60)


def draw_time(rng, start, end):
    """A time in [start, end), mostly in working hours."""
    span = int((end - start).total_seconds())
    for _ in range(50):
        t = start + timedelta(seconds=rng.randrange(span))
        if 7 <= t.hour <= 21 or rng.random() < 0.15:
            return t
    return t


def extras(rng, action):
    job = "job-%08x" % rng.getrandbits(32)
    quality = resolution = duration = ""
    if action == "video_draft":
        quality, resolution, duration = "draft", "1280x720", str(rng.randint(4, 20))
    elif action == "video_final":
        quality, resolution, duration = "final", "3840x2160", str(rng.randint(4, 20))
    elif action == "upscale":
        quality, resolution = "final", rng.choice(["1920x1080", "3840x2160"])
    elif action == "set_3d":
        quality = rng.choice(["prop", "set"])
    elif action == "tts":
        duration = str(rng.randint(5, 90))
    return job, quality, resolution, duration


def fill(rng, budget, mix):
    """Costs of events adding up to the budget (less at most 4 credits)."""
    actions = sorted(mix)
    weights = [mix[a] for a in actions]
    out, remaining = [], budget
    while remaining > 0:
        action = rng.choices(actions, weights)[0]
        lo, hi = COST[action]
        cost = rng.randint(lo, hi)
        if cost > remaining:
            fitting = [a for a in actions if COST[a][0] <= remaining]
            if not fitting:
                break
            action = rng.choice(fitting)
            cost = min(remaining, rng.randint(*COST[action]))
        out.append((action, cost))
        remaining -= cost
    return out


def generate(rng):
    events = []  # dicts: org, instant, user, action, credits, extras, text (timestamp as written)
    for org, *_ in ORGS:
        for start_text, end_text, budget, mix in SEGMENTS[org]:
            start, end = parse_bound(start_text), parse_bound(end_text)
            for action, cost in fill(rng, budget, mix):
                instant = draw_time(rng, start, end)
                events.append({
                    "org": org, "instant": instant, "user": rng.choice(USERS[org]), "action": action,
                    "credits": str(cost), "extras": extras(rng, action), "text": fmt(instant, org, rng),
                })
    return events


def scripted(rng):
    """Hand-placed valid rows that show one thing each."""
    rows = []

    def add(org, when, user, action, credits, text=None, extra=None):
        instant = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)
        rows.append({
            "org": org, "instant": instant, "user": user, "action": action, "credits": credits,
            "extras": extra or extras(rng, action), "text": text or when,
        })

    # A user whose membership says use_credits=false still renders (flagged on the statement).
    add("aurora-films", "2026-08-12T16:40:00Z", "intern.jo", "video_draft", "85")
    add("aurora-films", "2026-09-03T10:05:00Z", "intern.jo", "script", "35")
    add("aurora-films", "2026-10-21T13:30:00Z", "intern.jo", "tts", "12")
    add("aurora-films", "2026-11-17T11:10:00Z", "intern.jo", "upscale", "60")
    # A usage exactly at a renewal instant belongs to the new period (after the renewal).
    add("aurora-films", "2026-09-30T00:00:00Z", "maya.chen", "script", "40")
    # Zero-credit rows (cancelled renders): valid, counted as events.
    add("bergmann-media", "2026-08-19T09:12:44Z", "render-pipeline", "video_final", "0")
    add("redline-games", "2026-09-22T18:01:02Z", "ci-pipeline", "video_draft", "0")
    # Quoted fields: an embedded comma (in the user id) and an embedded newline (in an
    # extra column). Both rows are valid.
    add("studio-okami", "2026-10-20T15:45:00+09:00", "Okada, Ren", "script", "45")
    add("nordlicht-animation", "2026-10-29T14:00:00+01:00", "j.hansen", "video_final", "640",
        extra=("job-4k-master-07", "final", "3840x2160\n(4K UHD master)", "12"))
    # Written as 1 December local time, but it is 2026-11-30T23:45Z: inside the close.
    add("bergmann-media", "2026-12-01T01:45:00+02:00", "k.bergmann", "tts", "22")
    return rows


PENDING = [  # after the horizon 2026-12-01T00:00Z: read, kept pending
    ("aurora-films", "2026-12-01T09:12:00Z", "tom.reid", "video_draft", "140"),
    ("nordlicht-animation", "2026-12-01T10:05:00+01:00", "render-bot", "video_final", "1100"),
    # 30 November in Los Angeles (PST), 1 December 05:15 in UTC.
    ("smith-and-jones", "2026-11-30T21:15:00-08:00", "dev.jones", "video_draft", "95"),
]


def write_csv(path, header, rows, crlf=False, bom=False):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    data = buffer.getvalue().encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


USAGE_HEADER = ["event_id", "org_id", "occurred_at", "user_id", "action", "credits", "job_id", "quality",
                "resolution", "duration_s"]


def usage_row(e):
    return [e["id"], e["org"], e["text"], e["user"], e["action"], e["credits"], *e["extras"]]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    out = parser.parse_args().out
    rng = random.Random(SEED)

    events = generate(rng) + scripted(rng)
    events.sort(key=lambda e: (e["instant"], e["org"], e["action"], e["credits"]))
    for number, e in enumerate(events, start=1):
        e["id"] = "evt-%06d" % number
    pending = []
    for org, when, user, action, credits in PENDING:
        instant = datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(UTC)
        pending.append({"org": org, "instant": instant, "user": user, "action": action, "credits": credits,
                        "extras": extras(rng, action), "text": when, "id": "evt-%06d" % (len(events) + len(pending) + 1)})

    # Files by UTC month; the September export missed 16–17 September for three orgs, which
    # came later in a resend file (with some rows sent twice).
    files = {}
    resend = []
    for e in events:
        month = e["instant"].strftime("%Y-%m")
        if date(2026, 9, 16) <= e["instant"].date() <= date(2026, 9, 17) and e["org"] in RESENT_ORGS:
            resend.append(e)
        else:
            files.setdefault(month, []).append(e)
    rows = {month: [usage_row(e) for e in es] for month, es in files.items()}
    rows["2026-11"] += [usage_row(e) for e in pending]

    next_bad = [900001]

    def bad(org, when, user, action, credits):
        row = ["evt-%06d" % next_bad[0], org, when, user, action, credits, "job-%08x" % rng.getrandbits(32), "", "", ""]
        next_bad[0] += 1
        return row

    # Bad rows on purpose (SPEC §4); each one is rejected with a reason.
    bad_rows = {
        "2026-08": [
            bad("ghost-films", "2026-08-14T11:00:00Z", "x.unknown", "script", "50"),          # unknown org
            bad("tiny-tales", "2026-08-20T10:00:00Z", "ben.ng", "script", "30"),              # before the org's start (08-31)
        ],
        "2026-09": [
            bad("aurora-films", "2026-09-14T10:22:05", "tom.reid", "tts", "14"),              # no offset
            bad("bergmann-media", "2026-09-31T12:00:00Z", "s.yilmaz", "upscale", "75"),       # 31 September
        ],
        "2026-10": [
            bad("kiez-kollektiv", "2026-10-08T17:30:00+02:00", "lena.vogel", "upscale", "-40"),  # negative credits
        ],
        "2026-11": [
            bad("northern-film-school", "2026-11-09T10:00:00Z", "student.ahmed", "tts", "12.5"),  # fractional credits
            bad("redline-games", "2026-11-12T15:20:00Z", "dana.kim", "lip_sync", "120"),          # unknown action
        ],
    }
    for month, extra in bad_rows.items():
        position = len(rows[month]) // 2
        rows[month][position:position] = extra

    # The August export came unsorted (row order does not matter).
    rng.shuffle(rows["2026-08"])

    sept = rows["2026-09"]
    originals = [r for r in sept if r[1] == "bergmann-media" and r[0].startswith("evt-")][:4]
    late_rows = [usage_row(e) for e in resend]
    late_rows += [list(r) for r in originals[:3]]  # exact duplicates: skipped, counted
    conflict = list(originals[3])
    conflict[5] = str(int(conflict[5]) + 100)        # same event_id, other credits: rejected
    late_rows.append(conflict)

    for month, month_rows in sorted(rows.items()):
        write_csv(os.path.join(out, "usage", month + ".csv"), USAGE_HEADER, month_rows)
    # The resend came from a spreadsheet: UTF-8 byte-order mark and CRLF line ends.
    write_csv(os.path.join(out, "usage", "late-2026-09-resend.csv"), USAGE_HEADER, late_rows, crlf=True, bom=True)

    with open(os.path.join(out, "plans.yaml"), "w", encoding="utf-8", newline="\n") as f:
        f.write(PLANS_YAML)
    org_rows = []
    for org in ORGS:
        custom = org[14] or ("", "", "")
        org_rows.append(list(org[:14]) + list(custom))
    write_csv(os.path.join(out, "orgs.csv"), ORG_COLUMNS, org_rows)
    write_csv(os.path.join(out, "plan_changes.csv"), ["org_id", "effective_at", "plan_id"], PLAN_CHANGES)
    write_csv(os.path.join(out, "topups.csv"), ["purchase_id", "org_id", "purchased_at", "pack_id"], TOPUPS)
    write_csv(os.path.join(out, "refunds.csv"), ["refund_id", "purchase_id", "refunded_at"], REFUNDS)
    write_csv(os.path.join(out, "members.csv"), ["org_id", "user_id", "role", "use_credits"], MEMBERS)
    write_csv(os.path.join(out, "queue.csv"), ["org_id", "job_id", "action", "credits"], QUEUE)

    total = sum(len(r) for r in rows.values()) + len(late_rows)
    print("wrote %s: %d orgs, %d usage rows in %d files" % (out, len(ORGS), total, len(rows) + 1))


if __name__ == "__main__":
    main()
