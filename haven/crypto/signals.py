"""Signals the crypto app sends. The audit app listens: crypto sits below it and cannot call it."""

from django.dispatch import Signal

# Sent inside the shredding transaction with: data_key_id, actor, reason, counts (model label
# to number of rows removed). A receiver that raises undoes the removal of the rows.
subject_shredded = Signal()
