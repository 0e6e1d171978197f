"""Signals the crypto app sends. The audit app listens: crypto sits below it and cannot call it."""

from django.dispatch import Signal

# Sent inside the shredding transaction with: data_key_id, actor, reason, counts (model label
# to number of rows removed). A receiver that raises undoes the removal of the rows.
subject_shredded = Signal()

# Sent once emergency destruction has run (not in a rehearsal) with: certificate (the dict
# written to the certificate file), confirmed_by (list of (user id or None, username)) and
# reason. The key material is already gone when it is sent; a receiver cannot undo that.
everything_destroyed = Signal()

# Sent after the orphan check removed keys that no row used (haven.crypto.orphans), with:
# counts (key model label to number of keys removed). A maintenance event: no actor, no mission.
orphaned_keys_removed = Signal()
