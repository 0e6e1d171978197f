"""The complete exit export: every record of a mission, decrypted, as documented JSON plus its
files, in one archive encrypted under a passphrase; and its import into an empty instance.

``schema`` says what is exported and how a row becomes JSON (docs/exit-export.md);
``writer`` builds the archive; ``reader`` restores it.
"""
