"""What the fault tests and the soak run share: a TCP proxy that cuts, stalls or slows the
database connection, Haven served by gunicorn in processes of its own against a given database,
a private PostgreSQL cluster that can be restarted, a full filesystem, and clients that speak to
the portal, the workspace and the API as people do.

Every fault is injected on loopback or in a folder of the test's own; nothing here touches a
shared server beyond creating and dropping databases of the test's own name.
"""
