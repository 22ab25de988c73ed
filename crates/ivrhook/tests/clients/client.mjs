// The receiver's cases through Node.js's fetch (undici), as a platform would send them.
// Usage: node client.mjs BASE_URL FIXTURES_DIR TRIES; prints one JSON line per case.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const [base, fixtures, triesArg] = process.argv.slice(2);
const tries = Number(triesArg);
const url = base.replace(/\/$/, "") + "/callback";
const spec = ["seed-example-all-succeeded.json", "seed-example-partly-not-executed.json"].map(
  (f) => readFileSync(join(fixtures, f)),
);
const big = Buffer.concat([Buffer.from('{"appId":"'), Buffer.alloc(3 << 20, "x"), Buffer.from('"}')]);
const bomb = gzipSync(Buffer.alloc(50 << 20, " "));

// A body of unknown length, sent chunked.
function stream(body) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= body.length) return controller.close();
      controller.enqueue(body.subarray(at, at + 65536));
      at += 65536;
    },
  });
}

const cases = [
  ["spec-1", spec[0], {}, false, 1],
  ["spec-2", spec[1], {}, false, 1],
  ["over-length", big, {}, false, tries],
  ["over-chunked", big, {}, true, tries],
  ["gzip", gzipSync(spec[0]), { "Content-Encoding": "gzip" }, false, 1],
  ["gzip-bomb", bomb, { "Content-Encoding": "gzip" }, false, 1],
  ["unknown-encoding", spec[0], { "Content-Encoding": "br" }, false, 1],
];

for (const [name, body, headers, chunked, n] of cases) {
  const codes = [];
  let msg = "";
  for (let i = 0; i < n; i++) {
    try {
      const init = { method: "POST", headers, body: chunked ? stream(body) : body };
      if (chunked) init.duplex = "half";
      const answer = await (await fetch(url, init)).json();
      codes.push(answer.code);
      msg = answer.msg ?? "";
    } catch (e) {
      codes.push(`error: ${e.name}: ${e.message} ${e.cause ?? ""}`);
    }
  }
  console.log(JSON.stringify({ case: name, codes, msg }));
}
