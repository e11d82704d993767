// The OkHttp client driver: the seed's client (OkHttp 3.13.1 + Okio 1.16 from Debian) on the JDK.
// Run: java -cp okhttp.jar:okio.jar[:classdir] OkHttpDriver '<DriverConfig JSON>' (or as a
// single-file source program). Speaks the JSON-lines protocol of protocol.ts: ready, connected
// (then waits for the line `go` on stdin; exits with status 3 if stdin closes first),
// response-started, exactly one result. The pause point is an EventListener, like the seed's
// debugger breakpoint: https/h2 block in secureConnectStart (after TCP connect and, through a
// proxy, after the CONNECT tunnel — before the ClientHello); http blocks in connectEnd (before the
// request is written). Retries are off so one attempt is observed — except with `reuse`: one
// OkHttpClient makes a first request, prints `idle` (and waits for `go` when paused; the connect
// pause is then not held) and makes the second through its own pool, with OkHttp's
// retryOnConnectionFailure left on unless `noRetry`. The Outcome keeps each
// exception's class, message (absent/"" when Java's is null) and the whole getCause() chain with
// suppressed exceptions. No JSON library: a small parser below reads the configuration.

import java.io.BufferedReader;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

import okhttp3.Call;
import okhttp3.EventListener;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.ResponseBody;
import okio.Buffer;
import okio.BufferedSource;

public class OkHttpDriver {
  static final PrintStream OUT = new PrintStream(new FileOutputStream(FileDescriptor.out), true);
  static final AtomicBoolean FINISHED = new AtomicBoolean(false);
  static final long STARTED = System.nanoTime();
  static volatile long connectedAt = 0;
  static volatile Socket lastSocket;
  static volatile int connects = 0;
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
    emit("{\"event\":\"result\",\"outcome\":" + outcomeJson + ",\"timings\":" + t + "}");
    OUT.flush();
    System.exit(0);
  }

  static String codeOf(Throwable t) {
    if (t instanceof okhttp3.internal.http2.StreamResetException) {
      return String.valueOf(((okhttp3.internal.http2.StreamResetException) t).errorCode);
    }
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

  // ------------------------------------------------------------------------------------------
  // The pause point

  static void hold(boolean pause) {
    if (connectedAt == 0) connectedAt = System.nanoTime();
    Socket s = lastSocket;
    String local = s == null ? "?" : fmtAddress(s.getLocalAddress(), s.getLocalPort());
    String remote = s == null ? "?" : fmtAddress(s.getInetAddress(), s.getPort());
    emit("{\"event\":\"connected\",\"local\":" + str(local) + ",\"remote\":" + str(remote) + "}");
    if (!pause) return;
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

  /** The idle point of `reuse`: wait for `go` without printing `connected`. */
  static void hold0() {
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

  /** Records every socket OkHttp creates (DIRECT and HTTP proxies use the SocketFactory) and when it connected. */
  static final class RecordingSocketFactory extends SocketFactory {
    private Socket record(Socket s) {
      lastSocket = s;
      return s;
    }

    @Override public Socket createSocket() {
      return record(new Socket() {
        @Override public void connect(SocketAddress endpoint, int timeout) throws IOException {
          super.connect(endpoint, timeout);
          connects++;
          if (connectedAt == 0) connectedAt = System.nanoTime();
        }
      });
    }

    @Override public Socket createSocket(String host, int port) throws IOException {
      return record(SocketFactory.getDefault().createSocket(host, port));
    }

    @Override public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
      return record(SocketFactory.getDefault().createSocket(host, port, localHost, localPort));
    }

    @Override public Socket createSocket(InetAddress host, int port) throws IOException {
      return record(SocketFactory.getDefault().createSocket(host, port));
    }

    @Override public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
      return record(SocketFactory.getDefault().createSocket(address, port, localAddress, localPort));
    }
  }

  // ------------------------------------------------------------------------------------------
  // Main

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: OkHttpDriver '<DriverConfig JSON>'");
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
    // With reuse the pause is at the idle point, not at connect.
    final boolean holdAtConnect = pause && reuse == null;

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

    emit("{\"event\":\"ready\",\"software\":{\"family\":\"okhttp\",\"version\":" + str(okhttp3.internal.Version.userAgent().replaceFirst("^okhttp/", "")) + "}}");
    final boolean secure = scheme.equals("https") || scheme.equals("h2");
    final List<String> notes = new ArrayList<>();

    OkHttpClient.Builder builder = new OkHttpClient.Builder()
        .retryOnConnectionFailure(reuse != null && !Boolean.TRUE.equals(reuse.get("noRetry")))
        .socketFactory(new RecordingSocketFactory())
        .eventListener(new EventListener() {
          @Override public void secureConnectStart(Call call) {
            hold(holdAtConnect);
          }

          @Override public void connectEnd(Call call, InetSocketAddress address, Proxy p, Protocol protocol) {
            notes.add("protocol=" + protocol);
            if (!secure) hold(holdAtConnect);
          }
        });
    if (proxy != null) {
      String ph = (String) proxy.get("host");
      int pp = ((Number) proxy.get("port")).intValue();
      builder.proxy(new Proxy(Proxy.Type.HTTP, new InetSocketAddress(InetAddress.getByName(ph), pp)));
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
      X509TrustManager tm = null;
      for (TrustManager t : tmf.getTrustManagers()) if (t instanceof X509TrustManager) tm = (X509TrustManager) t;
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, null);
      builder.sslSocketFactory(ctx.getSocketFactory(), tm);
    }
    if (scheme.equals("h2")) builder.protocols(Arrays.asList(Protocol.HTTP_2, Protocol.HTTP_1_1));
    else builder.protocols(Arrays.asList(Protocol.HTTP_1_1));
    OkHttpClient client = builder.build();

    String authority = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    String url = (secure ? "https://" : "http://") + authority + path;
    Request.Builder rb = new Request.Builder().url(url);
    if (reuse != null && "POST".equals(reuse.get("method"))) rb.post(okhttp3.RequestBody.create(okhttp3.MediaType.get("application/x-www-form-urlencoded"), "rstlab=1"));
    else rb.get();
    Request request = rb.build();

    Integer status = null;
    long bytes = 0;
    if (reuse != null) {
      String first = (secure ? "https://" : "http://") + authority + "/";
      try (Response r1 = client.newCall(new Request.Builder().url(first).get().build()).execute()) {
        ResponseBody b1 = r1.body();
        if (b1 != null) b1.source().readAll(okio.Okio.blackhole());
      } catch (Throwable t) {
        notes.add("first-request");
        finish(errorOutcome(t, null, null, notes));
      }
      int before = client.connectionPool().connectionCount();
      emit("{\"event\":\"idle\"}");
      if (pause) hold0();
      else if (reuse.get("idleMs") != null) Thread.sleep(((Number) reuse.get("idleMs")).longValue());
      notes.add("pooled=" + before);
    }
    final int connectsBefore = connects;
    try (Response response = client.newCall(request).execute()) {
      if (reuse != null) notes.add("new-connections=" + (connects - connectsBefore));
      status = response.code();
      emit("{\"event\":\"response-started\",\"status\":" + status + "}");
      ResponseBody body = response.body();
      if (body != null) {
        BufferedSource source = body.source();
        Buffer sink = new Buffer();
        long n;
        while ((n = source.read(sink, 8192)) != -1) {
          bytes += n;
          sink.clear();
        }
      }
      finish("{\"kind\":\"ok\",\"status\":" + status + ",\"bytes\":" + bytes + ",\"causes\":[],\"notes\":" + notesJson(notes) + "}");
    } catch (Throwable t) {
      if (reuse != null && status == null) notes.add("new-connections=" + (connects - connectsBefore));
      finish(errorOutcome(t, status, status == null ? null : bytes, notes));
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
