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
// when Java's is null) and the whole getCause() chain with suppressed exceptions (the protocol
// helpers and the JSON parser are DriverProtocol.java's, shared with the OkHttp driver).

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class JavaHttpClientDriver {
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
    final DriverProtocol.Config cfg = new DriverProtocol.Config(args[args.length - 1]);

    DriverProtocol.startTimeout(cfg.timeoutMs);

    DriverProtocol.emit("{\"event\":\"ready\",\"software\":{\"family\":\"java-httpclient\",\"version\":" + DriverProtocol.str(System.getProperty("java.version")) + "}}");
    final boolean secure = cfg.scheme.equals("https") || cfg.scheme.equals("h2");
    final List<String> notes = new ArrayList<>();

    HttpClient.Builder builder = HttpClient.newBuilder()
        .version(cfg.scheme.equals("h2") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER);
    if (cfg.proxy != null) {
      String ph = (String) cfg.proxy.get("host");
      int pp = ((Number) cfg.proxy.get("port")).intValue();
      builder.proxy(ProxySelector.of(new InetSocketAddress(InetAddress.getByName(ph), pp)));
    }
    if (secure && cfg.caFile != null) {
      TrustManagerFactory tmf = DriverProtocol.trustCa(cfg.caFile);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      builder.sslContext(ctx);
    }
    HttpClient client = builder.build();

    String authority = cfg.host.contains(":") ? "[" + cfg.host + "]:" + cfg.port : cfg.host + ":" + cfg.port;
    String base = (secure ? "https://" : "http://") + authority;
    Integer status = null;
    long bytes = 0;
    try {
      if (cfg.reuse != null) {
        // Request 1, read to the end: its connection goes back to the client's pool.
        HttpResponse<InputStream> first = client.send(HttpRequest.newBuilder(URI.create(base + "/")).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = first.body()) {
          drain(in);
        }
        DriverProtocol.emit("{\"event\":\"idle\"}");
        if (cfg.pause) DriverProtocol.waitGo();
        else if (cfg.reuse.get("idleMs") != null) Thread.sleep(((Number) cfg.reuse.get("idleMs")).longValue());
        if (Boolean.TRUE.equals(cfg.reuse.get("noRetry"))) notes.add("no-retry-switch");
      }
      HttpRequest.Builder rb = HttpRequest.newBuilder(URI.create(base + cfg.path));
      if (cfg.reuse != null && "POST".equals(cfg.reuse.get("method"))) rb.POST(HttpRequest.BodyPublishers.ofString("rstlab=1"));
      else rb.GET();
      HttpResponse<InputStream> response = client.send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
      status = response.statusCode();
      DriverProtocol.emit("{\"event\":\"response-started\",\"status\":" + status + "}");
      if (response.version() == HttpClient.Version.HTTP_2) notes.add("proto=HTTP_2");
      try (InputStream in = response.body()) {
        byte[] buf = new byte[8192];
        int n;
        while ((n = in.read(buf)) != -1) bytes += n;
      }
      DriverProtocol.finish(DriverProtocol.okOutcome(status, bytes, notes), cfg.pause && cfg.reuse == null);
    } catch (Throwable t) {
      DriverProtocol.finish(DriverProtocol.errorOutcome(t, status, status == null ? null : bytes, notes), cfg.pause && cfg.reuse == null);
    }
  }
}
