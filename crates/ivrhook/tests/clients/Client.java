// The receiver's cases through java.net.http.HttpClient, as a platform would send them.
// Usage: java Client BASE_URL FIXTURES_DIR TRIES; prints one JSON line per case.

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

public class Client {
    static final Pattern FIELD = Pattern.compile("\"(code|msg)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    record Case(String name, byte[] body, String encoding, boolean chunked, int tries) {}

    public static void main(String[] args) throws Exception {
        URI url = URI.create(args[0].replaceAll("/$", "") + "/callback");
        Path fixtures = Path.of(args[1]);
        int tries = Integer.parseInt(args[2]);
        byte[] spec1 = Files.readAllBytes(fixtures.resolve("seed-example-all-succeeded.json"));
        byte[] spec2 = Files.readAllBytes(fixtures.resolve("seed-example-partly-not-executed.json"));
        byte[] x = new byte[3 << 20];
        Arrays.fill(x, (byte) 'x');
        byte[] big = concat("{\"appId\":\"".getBytes(), x, "\"}".getBytes());
        byte[] spaces = new byte[50 << 20];
        Arrays.fill(spaces, (byte) ' ');
        List<Case> cases = List.of(
            new Case("spec-1", spec1, null, false, 1),
            new Case("spec-2", spec2, null, false, 1),
            new Case("over-length", big, null, false, tries),
            new Case("over-chunked", big, null, true, tries),
            new Case("gzip", gzip(spec1), "gzip", false, 1),
            new Case("gzip-bomb", gzip(spaces), "gzip", false, 1),
            new Case("unknown-encoding", spec1, "br", false, 1));
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        for (Case c : cases) {
            List<String> codes = new ArrayList<>();
            String msg = "";
            for (int i = 0; i < c.tries(); i++) {
                try {
                    String answer = client.send(request(url, c), HttpResponse.BodyHandlers.ofString()).body();
                    codes.add(field(answer, "code"));
                    msg = field(answer, "msg");
                } catch (Exception e) {
                    codes.add("error: " + e);
                }
            }
            System.out.println("{\"case\":" + quote(c.name()) + ",\"codes\":[" + String.join(",",
                codes.stream().map(Client::quote).toList()) + "],\"msg\":" + quote(msg) + "}");
        }
    }

    static HttpRequest request(URI url, Case c) {
        HttpRequest.BodyPublisher body = c.chunked()
            ? HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(c.body()))
            : HttpRequest.BodyPublishers.ofByteArray(c.body());
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(60)).POST(body);
        if (c.encoding() != null) b.header("Content-Encoding", c.encoding());
        return b.build();
    }

    static String field(String json, String name) {
        Matcher m = FIELD.matcher(json);
        while (m.find()) if (m.group(1).equals(name)) return m.group(2).replace("\\\"", "\"");
        return "no " + name + " in " + json;
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
    }

    static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) { z.write(data); }
        return out.toByteArray();
    }

    static byte[] concat(byte[]... parts) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.write(p);
        return out.toByteArray();
    }
}
