"""The REST API's common parts (``/api/v1/``): access, errors, money, idempotency, paging.

One module per concern: ``permissions`` (the access rule), ``views`` (the base view, ids in
scope), ``fields`` (money, ids, dates, uploaded tables), ``idempotency``, ``paging``,
``errors`` (the exception handler and the error body in the schema), ``schema`` (operation ids,
the snapshot).

Every API view derives from ``ApiView`` and sets ``access_roles`` (``fund.access``): the
permission class (``permissions.AccessRolePermission``) refuses a view without one, so no
endpoint ships open by accident. What rows a permitted user then sees is ``fund.scoping``'s
business: ids of other units answer 404.

Errors are JSON and always carry ``code``, ``field`` and ``message`` (``errors`` lists every
field when a request has several problems, every wrong row with its ``row`` and ``column``
when a file import is refused): ``ApplicationError`` → 400, ``PermissionRefused`` → 403,
``IdempotencyConflict`` → 409, a row out of scope → 404. Bad input is refused by the input
serializers before a service runs, so that it never ends in a 500.

Money travels as ``{"amount": "15220000000", "currency": "VND"}``: whole đồng as a string of
digits (no float can hold an amount exactly), VND only. Every POST that moves money needs an
``Idempotency-Key`` header; the key is handed to the service, so a retry returns the first
result and the same key with another request is refused (409).
"""
