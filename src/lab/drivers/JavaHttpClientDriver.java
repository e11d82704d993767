// The java.net.http client driver: the JDK's own HttpClient (JDK 17, default-jdk-headless), no
// other library. Run: java -cp <classdir> JavaHttpClientDriver '<DriverConfig JSON>' (compiled once
// by drivers/index.ts). Speaks the JSON-lines protocol of protocol.ts: ready (software
// java-httpclient + java.version), response-started, exactly one result; with `reuse`, idle (then
// waits for `go` when paused). HttpClient takes no SocketFactory and has no connection event
// hook, so it cannot hold at the seed's breakpoint (after connect, before the request or the
// ClientHello): asked to, it runs without holding and says `cannotPause`, as curl does. With
// `reuse`, one HttpClient makes both requests from its own HTTP/1.1 pool; the JDK's retry of an
// idempotent request on a connection found closed stays as the JDK has it (no switch in the API:
// `noRetry` is noted, not applied). The Outcome keeps each exception's class, message (absent
// when Java's is null) and the whole getCause() chain with suppressed exceptions (the helpers and
// the JSON parser below are the OkHttp driver's).

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class JavaHttpClientDriver {
  static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
  static final AtomicBoolean FINISHED = new AtomicBoolean(false);
  static final long STARTED = System.nanoTime();
  static volatile long connectedAt = 0;
  static final BufferedReader STDIN = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));

  // ------------------------------------------------------------------------------------------
  // Output

  static synchronized void emit(String json) {
    OUT.print(json);
    OUT.print('\n');
    OUT.flush();
  }

  static String str(String s) {
    if (s == null) return "null";
    StringBuilder b = new StringBuilder(s.length() + 2);
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"': b.append("\\\""); break;
        case '\\': b.append("\\\\"); break;
        case '\n': b.append("\\n"); break;
        case '\r': b.append("\\r"); break;
        case '\t': b.append("\\t"); break;
        default:
          // Everything outside printable ASCII is escaped, so the output is ASCII whatever the locale.
          if (c < 0x20 || c > 0x7e) b.append(String.format("\\u%04x", (int) c));
          else b.append(c);
      }
    }
    return b.append('"').toString();
  }

  static String fmtAddress(InetAddress a, int port) {
    if (a == null) return "?";
    String h = a.getHostAddress();
    return h.contains(":") ? "[" + h + "]:" + port : h + ":" + port;
  }

  static double ms(long nanos) {
    return Math.round(nanos / 1e5) / 10.0;
  }

  static void finish(String outcomeJson) {
    if (!FINISHED.compareAndSet(false, true)) return;
    StringBuilder t = new StringBuilder("{");
    if (connectedAt != 0) t.append("\"connectMs\":").append(ms(connectedAt - STARTED)).append(',');
    t.append("\"totalMs\":").append(ms(System.nanoTime() - STARTED)).append('}');
    emit("{\"event\":\"result\",\"outcome\":" + outcomeJson + ",\"timings\":" + t + (cannotPause ? ",\"cannotPause\":true" : "") + "}");
    OUT.flush();
    System.exit(0);
  }

  static String codeOf(Throwable t) {
    return null;
  }

  static String causeJson(Throwable t, String relation) {
    StringBuilder b = new StringBuilder("{\"error\":").append(str(t.getClass().getName()));
    String code = codeOf(t);
    if (code != null) b.append(",\"code\":").append(str(code));
    b.append(",\"message\":").append(str(t.getMessage() == null ? "" : t.getMessage()));
    if (relation != null) b.append(",\"relation\":").append(str(relation));
    return b.append('}').toString();
  }

  static void collect(Throwable t, List<String> out, IdentityHashMap<Throwable, Boolean> seen, boolean top) {
    if (t == null || seen.containsKey(t) || out.size() > 32) return;
    seen.put(t, true);
    if (!top) out.add(causeJson(t, null));
    for (Throwable s : t.getSuppressed()) {
      if (seen.containsKey(s)) continue;
      out.add(causeJson(s, "suppressed"));
      seen.put(s, true);
      Throwable c = s.getCause();
      while (c != null && !seen.containsKey(c)) {
        seen.put(c, true);
        out.add(causeJson(c, null));
        c = c.getCause();
      }
    }
    collect(t.getCause(), out, seen, false);
  }

  static String errorOutcome(Throwable t, Integer status, Long bytes, List<String> notes) {
    StringBuilder b = new StringBuilder("{\"kind\":\"error\",\"error\":").append(str(t.getClass().getName()));
    String code = codeOf(t);
    if (code != null) b.append(",\"code\":").append(str(code));
    if (t.getMessage() != null) b.append(",\"message\":").append(str(t.getMessage()));
    if (status != null) b.append(",\"status\":").append(status);
    if (bytes != null) b.append(",\"bytes\":").append(bytes);
    List<String> causes = new ArrayList<>();
    collect(t, causes, new IdentityHashMap<>(), true);
    b.append(",\"causes\":[").append(String.join(",", causes)).append(']');
    b.append(",\"notes\":").append(notesJson(notes));
    return b.append('}').toString();
  }

  static String notesJson(List<String> notes) {
    List<String> q = new ArrayList<>();
    for (String n : notes) q.add(str(n));
    return "[" + String.join(",", q) + "]";
  }

  static void waitGo() {
    try {
      for (;;) {
        String line = STDIN.readLine();
        if (line == null) {
          System.err.println("stdin closed while waiting for go");
          Runtime.getRuntime().halt(3);
        }
        if (line.trim().equals("go")) return;
      }
    } catch (IOException e) {
      Runtime.getRuntime().halt(3);
    }
  }

  /** Reads a whole response body; returns its length. */
  static long drain(InputStream in) throws IOException {
    byte[] buf = new byte[8192];
    long bytes = 0;
    int n;
    while ((n = in.read(buf)) != -1) bytes += n;
    return bytes;
  }

  // ------------------------------------------------------------------------------------------
  // Main

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: JavaHttpClientDriver '<DriverConfig JSON>'");
      System.exit(2);
    }
    Map<String, Object> cfg = asMap(new Json(args[args.length - 1]).parse());
    final String scheme = (String) cfg.get("scheme");
    Map<String, Object> target = asMap(cfg.get("target"));
    String host = (String) target.get("host");
    int port = ((Number) target.get("port")).intValue();
    String path = cfg.get("path") == null ? "/" : (String) cfg.get("path");
    final boolean pause = Boolean.TRUE.equals(cfg.get("pause"));
    String caFile = (String) cfg.get("caFile");
    long timeoutMs = ((Number) cfg.get("timeoutMs")).longValue();
    Map<String, Object> proxy = cfg.get("proxy") == null ? null : asMap(cfg.get("proxy"));
    Map<String, Object> reuse = cfg.get("reuse") == null ? null : asMap(cfg.get("reuse"));

    Thread safety = new Thread(() -> {
      try {
        Thread.sleep(timeoutMs);
      } catch (InterruptedException e) {
        return;
      }
      finish("{\"kind\":\"timeout-internal\",\"message\":" + str("no outcome within " + timeoutMs + " ms") + ",\"causes\":[]}");
    }, "timeout-internal");
    safety.setDaemon(true);
    safety.start();

    emit("{\"event\":\"ready\",\"software\":{\"family\":\"java-httpclient\",\"version\":" + str(System.getProperty("java.version")) + "}}");
    final boolean secure = scheme.equals("https") || scheme.equals("h2");
    final List<String> notes = new ArrayList<>();

    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(scheme.equals("h2") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (proxy != null) {
      String ph = (String) proxy.get("host");
      int pp = ((Number) proxy.get("port")).intValue();
      builder.proxy(ProxySelector.of(new InetSocketAddress(InetAddress.getByName(ph), pp)));
    }
    if (secure && caFile != null) {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      try (InputStream in = new FileInputStream(caFile)) {
        Collection<? extends Certificate> certs = cf.generateCertificates(in);
        int i = 0;
        for (Certificate c : certs) ks.setCertificateEntry("ca" + (i++), c);
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      builder.sslContext(ctx);
    }
    HttpClient client = builder.build();

    String authority = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    String base = (secure ? "https://" : "http://") + authority;
    Integer status = null;
    long bytes = 0;
    try {
      if (reuse != null) {
        // Request 1, read to the end: its connection goes back to the client's pool.
        HttpResponse<InputStream> first = client.send(HttpRequest.newBuilder(URI.create(base + "/")).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = first.body()) {
          drain(in);
        }
        emit("{\"event\":\"idle\"}");
        if (pause) waitGo();
        else if (reuse.get("idleMs") != null) Thread.sleep(((Number) reuse.get("idleMs")).longValue());
        if (Boolean.TRUE.equals(reuse.get("noRetry"))) notes.add("no-retry-switch");
      }
      HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(base + path));
      if (reuse != null && "POST".equals(reuse.get("method"))) rb.POST(HttpRequest.BodyPublishers.ofString("rstlab=1"));
      else rb.GET();
      HttpResponse<InputStream> response = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
      status = response.statusCode();
      emit("{\"event\":\"response-started\",\"status\":" + status + "}");
      if (response.version() == HttpClient.Version.HTTP_2) notes.add("proto=HTTP_2");
      try (InputStream in = response.body()) {
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) != -1) bytes += n;
      }
      finishOk(status, bytes, notes, pause && reuse == null);
    } catch (Throwable t) {
      finishWith(errorOutcome(t, status, status == null ? null : bytes, notes), pause && reuse == null);
    }
  }

  static void finishOk(int status, long bytes, List<String> notes, boolean cannotPause) {
    finishWith("{\"kind\":\"ok\",\"status\":" + status + ",\"bytes\":" + bytes + ",\"causes\":[],\"notes\":" + notesJson(notes) + "}", cannotPause);
  }

  static volatile boolean cannotPause = false;

  static void finishWith(String outcome, boolean cannot) {
    cannotPause = cannot;
    finish(outcome);
  }

  // ------------------------------------------------------------------------------------------
  // A minimal JSON parser (RFC 8259): objects → LinkedHashMap, arrays → ArrayList, numbers → Double,
  // strings, booleans, null. Strict enough to reject malformed input with a position.

  @SuppressWarnings("unchecked")
  static Map<String, Object> asMap(Object o) {
    if (!(o instanceof Map)) throw new IllegalArgumentException("expected a JSON object");
    return (Map<String, Object>) o;
  }

  static final class Json {
    private final String s;
    private int i = 0;

    Json(String s) {
      this.s = s;
    }

    Object parse() {
      Object v = value();
      ws();
      if (i != s.length()) throw error("trailing characters");
      return v;
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException("bad JSON at " + i + ": " + what);
    }

    private void ws() {
      while (i < s.length() && " \t\r\n".indexOf(s.charAt(i)) >= 0) i++;
    }

    private char peek() {
      if (i >= s.length()) throw error("unexpected end");
      return s.charAt(i);
    }

    private void expect(String word) {
      if (!s.startsWith(word, i)) throw error("expected " + word);
      i += word.length();
    }

    private Object value() {
      ws();
      char c = peek();
      switch (c) {
        case '{': return object();
        case '[': return array();
        case '"': return string();
        case 't': expect("true"); return Boolean.TRUE;
        case 'f': expect("false"); return Boolean.FALSE;
        case 'n': expect("null"); return null;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) return number();
          throw error("unexpected character " + c);
      }
    }

    private Map<String, Object> object() {
      Map<String, Object> m = new LinkedHashMap<>();
      i++;
      ws();
      if (peek() == '}') {
        i++;
        return m;
      }
      for (;;) {
        ws();
        if (peek() != '"') throw error("expected a key");
        String k = string();
        ws();
        expect(":");
        m.put(k, value());
        ws();
        char c = peek();
        i++;
        if (c == '}') return m;
        if (c != ',') throw error("expected , or }");
      }
    }

    private List<Object> array() {
      List<Object> a = new ArrayList<>();
      i++;
      ws();
      if (peek() == ']') {
        i++;
        return a;
      }
      for (;;) {
        a.add(value());
        ws();
        char c = peek();
        i++;
        if (c == ']') return a;
        if (c != ',') throw error("expected , or ]");
      }
    }

    private String string() {
      i++;
      StringBuilder b = new StringBuilder();
      for (;;) {
        char c = peek();
        i++;
        if (c == '"') return b.toString();
        if (c < 0x20) throw error("control character in string");
        if (c != '\\') {
          b.append(c);
          continue;
        }
        char e = peek();
        i++;
        switch (e) {
          case '"': b.append('"'); break;
          case '\\': b.append('\\'); break;
          case '/': b.append('/'); break;
          case 'b': b.append('\b'); break;
          case 'f': b.append('\f'); break;
          case 'n': b.append('\n'); break;
          case 'r': b.append('\r'); break;
          case 't': b.append('\t'); break;
          case 'u':
            if (i + 4 > s.length()) throw error("short \\u escape");
            try {
              b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            } catch (NumberFormatException x) {
              throw error("bad \\u escape");
            }
            i += 4;
            break;
          default: throw error("bad escape \\" + e);
        }
      }
    }

    private Double number() {
      int start = i;
      if (peek() == '-') i++;
      while (i < s.length() && "0123456789.eE+-".indexOf(s.charAt(i)) >= 0) i++;
      try {
        return Double.valueOf(s.substring(start, i));
      } catch (NumberFormatException x) {
        throw error("bad number");
      }
    }
  }
}
