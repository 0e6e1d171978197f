"""The starter directory every mission receives, to edit as its own.

Facts were checked on 2026-11-30 against copies of public pages (``source``: the mechanism's
own where one was at hand, otherwise a page describing it); the wording is ours. The UNHCR
entry rests on DOMAIN.md alone and starts unverified, so it shows as needing a check. Each
mission should verify the entries again before relying on them: funds pause and channels
change (an emergency fund was halted in January 2025, DOMAIN.md).
"""

from __future__ import annotations

import datetime

CHECKED_ON = datetime.date(2026, 11, 30)

STARTER: list[dict[str, object]] = [
    {
        "name": "Lifeline Embattled CSO Assistance Fund",
        "kind": "emergency_grant",
        "support_types": [
            "medical_psychosocial",
            "legal_support",
            "prison_visit",
            "trial_monitoring",
            "urgent_relocation",
            "physical_security",
            "equipment",
        ],
        "eligibility": (
            "Civil society organisations under threat or attack because of their work: an "
            "established group of two or more activists, registered or not, able to show a "
            "history of activism. Also advocacy and resiliency grants against wider threats to "
            "civic space."
        ),
        "how_to_apply": (
            "Small, short-term emergency grants on request; advocacy and resiliency grants "
            "through the consortium members (for example ICNL for advocacy and resiliency)."
        ),
        "languages": "",
        "contact": "Through the consortium led by Freedom House; ICNL: Lifeline@icnl.org",
        "website": "https://www.csolifeline.org/",
        "source": "https://www.icnl.org/our-work/global-programs/lifeline",
    },
    {
        "name": "ProtectDefenders.eu",
        "kind": "emergency_grant",
        "support_types": [
            "physical_security",
            "digital_security",
            "communications",
            "security_training",
            "secure_transport",
            "legal_support",
            "medical_psychosocial",
            "family_support",
            "urgent_relocation",
            "monitoring_advocacy",
            "other",
        ],
        "eligibility": (
            "Human rights defenders working in line with the UN Declaration on Human Rights "
            "Defenders, at risk because of that work, who need urgent support. EU-funded grants "
            "do not exceed 10,000 euros. Also a temporary relocation programme."
        ),
        "how_to_apply": (
            "Request for individual or organisational support through the secure form on its "
            "website; emergency grants are delivered through its partner organisations. "
            "24/7 emergency helpline run by Front Line Defenders."
        ),
        "languages": "Arabic, English, French, Russian, Spanish (helpline)",
        "contact": "Emergency helpline +353 1 21 00 489; secure web form",
        "website": "https://protectdefenders.eu/",
        "source": "https://protectdefenders.eu/protecting-defenders/",
    },
    {
        "name": "Front Line Defenders: protection grants and emergency line",
        "kind": "emergency_grant",
        "support_types": [
            "physical_security",
            "digital_security",
            "communications",
            "legal_support",
            "medical_psychosocial",
            "family_support",
        ],
        "eligibility": (
            "Human rights defenders at risk and their organisations. Protection grants up to "
            "7,500 euros; no retrospective funding, running costs, armed guards, vehicles, or "
            "costs of defenders already in exile."
        ),
        "how_to_apply": (
            "Apply at any time through the online system on its website; for an emergency, the "
            "24-hour emergency line."
        ),
        "languages": (
            "Applications: Arabic, Chinese, English, Farsi, French, Portuguese, Russian, "
            "Spanish, Turkish"
        ),
        "contact": "Emergency line +353 1 21 00 489",
        "website": "https://www.frontlinedefenders.org/",
        "source": "https://pressprotect.ecpmf.eu/fund/protection-grants-li",
    },
    {
        "name": "Access Now Digital Security Helpline",
        "kind": "digital_security",
        "support_types": ["digital_security", "communications", "security_training"],
        "eligibility": (
            "Activists, human rights defenders, journalists, media organisations, bloggers and "
            "researchers in civil society. Digital security only; free of charge; around the "
            "clock."
        ),
        "how_to_apply": (
            "E-mail the helpline; it answers within two hours to set up a secure channel, and "
            "vets each request before helping."
        ),
        "languages": "",
        "contact": "help@accessnow.org",
        "website": "https://www.accessnow.org/help/",
        "source": "https://www.accessnow.org/help/helpline-faq/",
    },
    {
        "name": "UN Special Rapporteur on the situation of human rights defenders",
        "kind": "un",
        "support_types": ["monitoring_advocacy"],
        "eligibility": (
            "Information about attacks on human rights defenders, sent by the defender, a "
            "relative or an organisation. The Special Rapporteur may write to the State (an "
            "allegation letter or urgent appeal); States have 60 days to answer, and "
            "communications are later published."
        ),
        "how_to_apply": "Submit information through the UN Special Procedures' online form.",
        "languages": "English, French, Spanish",
        "contact": "UN Special Procedures submission form",
        "website": "https://www.ohchr.org/en/special-procedures/sr-human-rights-defenders",
        "source": "https://www.business-humanrights.org/en/emergency-and-rapid-response-mechanisms",
    },
    {
        "name": "Shelter City (Justice & Peace Netherlands)",
        "kind": "relocation",
        "support_types": ["urgent_relocation", "security_training", "medical_psychosocial"],
        "eligibility": (
            "Human rights defenders at risk who can return home afterwards and continue their "
            "work; a stay of about three months in a shelter city, with security training. A "
            "last resort where shelter in the region is not possible."
        ),
        "how_to_apply": "Open calls on the Shelter City website; selection case by case.",
        "languages": "",
        "contact": "sheltercity.org",
        "website": "https://sheltercity.org/",
        "source": "https://justiceandpeace.nl/en/initiatives/shelter-city/",
    },
    {
        "name": "UNHCR",
        "kind": "refugee",
        "support_types": ["urgent_relocation", "family_support"],
        "eligibility": (
            "People who have fled their country and need international protection. Missions "
            "generally refer refugees to UNHCR rather than act themselves (DOMAIN.md)."
        ),
        "how_to_apply": "Through UNHCR's office in the country of asylum.",
        "languages": "",
        "contact": "The UNHCR office in the host country",
        "website": "https://www.unhcr.org/",
        "source": "",
        "unverified": True,
    },
]
