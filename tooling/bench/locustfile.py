"""Simulated staff for the benchmark's concurrent run (run by ``tooling.bench.load``).

Each simulated person signs in through the real sign-in form (CSRF token from the
form, Argon2 check, lockout bookkeeping, session row), then opens the pages their
role uses, with the pause between clicks that ``IOP_BENCH_PAUSE`` gives ("2,8": 2 to 8
seconds; "0,0": none). Clinicians open their own caseload's charts and their own
groups' sheets, so every access check is a real one: a page that answers anything but
200 counts as an error.

The accounts come from the JSON file named by ``IOP_BENCH_ACCOUNTS`` (written by
``tooling.bench.load.accounts``): user name, password and the URLs that account may open.
Not imported by Django; locust imports it in its own process.
"""

import itertools
import json
import os
import random
import re
import threading
from urllib.parse import urlencode

from locust import between, constant, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["IOP_BENCH_ACCOUNTS"], encoding="utf-8") as handle:
    ACCOUNTS = json.load(handle)
_low, _high = (float(x) for x in os.environ.get("IOP_BENCH_PAUSE", "2,8").split(","))
_next = itertools.cycle(ACCOUNTS)
_lock = threading.Lock()
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


# FastHttpUser (geventhttpclient), not HttpUser (requests): the simulated staff share the
# machine with the server, and requests costs the load generator several times the CPU.
class Staff(FastHttpUser):
    wait_time = between(_low, _high) if _high > 0 else constant(0)

    def on_start(self):
        with _lock:
            self.account = next(_next)
        form = self.client.get("/accounts/login/", name="sign-in form")
        token = CSRF.search(form.text)
        with self.client.post(
            "/accounts/login/",
            urlencode(
                {
                    "username": self.account["username"],
                    "password": self.account["password"],
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                }
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/accounts/" in response.headers.get("Location", ""):
                response.failure(f"sign-in answered {response.status_code}")
                self.stop()

    @task
    def open_a_page(self):
        name, paths = random.choice(self.account["pages"])
        with self.client.get(
            random.choice(paths), name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
