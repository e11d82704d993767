// What the two Java client drivers share (OkHttpDriver.java, JavaHttpClientDriver.java; compiled
// together with each by drivers/index.ts): the JSON-lines protocol of src/lab/protocol.ts on
// stdout — emit (one line, flushed), the JSON string escaping (ASCII whatever the locale), exactly
// one `result` via finish() (timings connectMs/totalMs from STARTED and connectedAt; the exit
// follows at once), the timeoutMs safety net (timeout-internal) — the line `go` on stdin (waitGo:
// status 3 if stdin closes first), the config's CA file as a TrustManagerFactory, and the Outcome
// of an exception: its class, message (absent when Java's is null; "" in causes), a `code` from
// the driver's CODE_OF, and the whole getCause() chain with suppressed exceptions (at most 33).
// No JSON library: a small parser below reads the configuration. Standard library only.

import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import javax.net.ssl.TrustManagerFactory;

final class DriverProtocol {
  private DriverProtocol() {}

  static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
  static final AtomicBoolean FINISHED = new AtomicBoolean(false);
  static final long STARTED = System.nanoTime();
  static final BufferedReader STDIN = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
  /** When the connection was up (System.nanoTime()); 0: not yet. Set by the driver. */
  static volatile long connectedAt = 0;
  /** The driver's `code` of an exception (OkHttp: an HTTP/2 stream reset's error code); null: none. */
  static volatile Function<Throwable, String> CODE_OF = t -> null;

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

  /** The one `result` line, then exit; `cannotPause` adds the flag of a client that could not hold. */
  static void finish(String outcomeJson, boolean cannotPause) {
    if (!FINISHED.compareAndSet(false, true)) return;
    StringBuilder t = new StringBuilder("{");
    if (connectedAt != 0) t.append("\"connectMs\":").append(ms(connectedAt - STARTED)).append(',');
    t.append("\"totalMs\":").append(ms(System.nanoTime() - STARTED)).append('}');
    emit("{\"event\":\"result\",\"outcome\":" + outcomeJson + ",\"timings\":" + t + (cannotPause ? ",\"cannotPause\":true" : "") + "}");
    OUT.flush();
    System.exit(0);
  }

  static void finish(String outcomeJson) {
    finish(outcomeJson, false);
  }

  /** An exception's protocol `code`: what the driver's CODE_OF gives (null: none). */
  static String codeOf(Throwable t) {
    return CODE_OF.apply(t);
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

  static String okOutcome(int status, long bytes, List<String> notes) {
    return "{\"kind\":\"ok\",\"status\":" + status + ",\"bytes\":" + bytes + ",\"causes\":[],\"notes\":" + notesJson(notes) + "}";
  }

  // ------------------------------------------------------------------------------------------
  // Input and the safety net

  /** Blocks until the line `go` arrives on stdin; halts with status 3 if stdin closes first. */
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

  /** The timeoutMs safety net: a daemon thread that finishes with timeout-internal. */
  static void startTimeout(long timeoutMs) {
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
  }

  /** A TrustManagerFactory that trusts the certificates of the PEM file `caFile` (config.caFile). */
  static TrustManagerFactory trustCa(String caFile) throws Exception {
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
    return tmf;
  }

  /** The DriverConfig (protocol.ts) fields the Java drivers read, from its JSON text. */
  static final class Config {
    final String scheme;
    final String host;
    final int port;
    final String path;
    final boolean pause;
    final String caFile;
    final long timeoutMs;
    final Map<String, Object> proxy;
    final Map<String, Object> reuse;

    Config(String json) {
      Map<String, Object> cfg = asMap(new Json(json).parse());
      scheme = (String) cfg.get("scheme");
      Map<String, Object> target = asMap(cfg.get("target"));
      host = (String) target.get("host");
      port = ((Number) target.get("port")).intValue();
      path = cfg.get("path") == null ? "/" : (String) cfg.get("path");
      pause = Boolean.TRUE.equals(cfg.get("pause"));
      caFile = (String) cfg.get("caFile");
      timeoutMs = ((Number) cfg.get("timeoutMs")).longValue();
      proxy = cfg.get("proxy") == null ? null : asMap(cfg.get("proxy"));
      reuse = cfg.get("reuse") == null ? null : asMap(cfg.get("reuse"));
    }
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
