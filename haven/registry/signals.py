"""What the registry announces to higher apps (cases), which must not be imported here.

``consent_withdrawn(consent, actor)``: sent inside the withdrawal's transaction; cases put
pending visible actions that need the scope on hold.
``defenders_merged(survivor, duplicate, actor)``: sent inside the merge's transaction, before
the duplicate is shredded; every app moves its links from the duplicate to the survivor.
"""

from django.dispatch import Signal

consent_withdrawn = Signal()
defenders_merged = Signal()
