"""gunicorn's settings for the image and the compose stack (``--config``).

The access log names the method, the path and the answer, never the query string
(``%(r)s`` is the whole request line, ``%(q)s`` the query) nor the Referer
(``%(f)s``, the previous page's full address): an address may once have carried a
client's MRN or name (an old bookmark), and an access log is kept and read far more
widely than the audit trail. ``tests/iop/test_deploy_logs.py`` holds this.
"""

accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
