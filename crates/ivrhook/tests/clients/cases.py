"""The cases every client sends; client.mjs and Client.java build the same ones."""
import gzip
import os


def cases(fixtures, tries):
    spec = [open(os.path.join(fixtures, f), "rb").read() for f in
            ("seed-example-all-succeeded.json", "seed-example-partly-not-executed.json")]
    big = b'{"appId":"' + b"x" * (3 << 20) + b'"}'
    bomb = gzip.compress(b" " * (50 << 20))
    return [
        ("spec-1", spec[0], {}, False, 1),
        ("spec-2", spec[1], {}, False, 1),
        ("over-length", big, {}, False, tries),
        ("over-chunked", big, {}, True, tries),
        ("gzip", gzip.compress(spec[0]), {"Content-Encoding": "gzip"}, False, 1),
        ("gzip-bomb", bomb, {"Content-Encoding": "gzip"}, False, 1),
        ("unknown-encoding", spec[0], {"Content-Encoding": "br"}, False, 1),
    ]
