"""Members' documents attached to borrowers, applications, loans and follow-up visits:
``content`` (what a file is, by its bytes), ``services`` (attach, withdraw, the download's audit,
the documents an application needs before review) and ``selectors`` (who sees which)."""
