"""The receiver's cases through Python's http.client or requests, as a platform would send.

Usage: client.py http.client|requests BASE_URL FIXTURES_DIR TRIES
Prints one JSON line per case: {"case", "codes": [code or "error: ..."], "msg"}.
"""
import http.client
import json
import sys
import urllib.parse

from cases import cases

stack, base, fixtures, tries = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
url = urllib.parse.urlsplit(base)
path = url.path.rstrip("/") + "/callback"


def chunked(body):
    for i in range(0, len(body), 65536):
        yield body[i : i + 65536]


class HttpClient:
    """One kept-alive connection, reopened by http.client when the server closes it."""

    def __init__(self):
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def post(self, body, headers, stream):
        data = chunked(body) if stream else body
        try:
            self.conn.request("POST", path, body=data, headers=headers)
            r = self.conn.getresponse()
            return json.loads(r.read())
        except Exception:
            self.conn.close()
            raise


class Requests:
    def __init__(self):
        import requests

        self.session = requests.Session()

    def post(self, body, headers, stream):
        data = chunked(body) if stream else body
        r = self.session.post(base.rstrip("/") + "/callback", data=data, headers=headers, timeout=60)
        return r.json()


client = HttpClient() if stack == "http.client" else Requests()
for name, body, headers, stream, n in cases(fixtures, tries):
    codes, msg = [], ""
    for _ in range(n):
        try:
            answer = client.post(body, headers, stream)
            codes.append(answer["code"])
            msg = answer.get("msg", "")
        except Exception as e:
            codes.append(f"error: {type(e).__name__}: {e}")
    print(json.dumps({"case": name, "codes": codes, "msg": msg}), flush=True)
