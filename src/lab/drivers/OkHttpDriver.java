// The OkHttp client driver: the seed's client (OkHttp 3.13.1 + Okio 1.16 from Debian) on the JDK.
// Run: java -cp okhttp.jar:okio.jar:<classdir> OkHttpDriver '<DriverConfig JSON>' (compiled once
// by drivers/index.ts together with DriverProtocol.java). Speaks the JSON-lines protocol of
// protocol.ts: ready, connected
// (then waits for the line `go` on stdin; exits with status 3 if stdin closes first),
// response-started, exactly one result. The pause point is an EventListener, like the seed's
// debugger breakpoint: https/h2 block in secureConnectStart (after TCP connect and, through a
// proxy, after the CONNECT tunnel — before the ClientHello); http blocks in connectEnd (before the
// request is written). Retries are off so one attempt is observed — except with `reuse`: one
// OkHttpClient makes a first request, prints `idle` (and waits for `go` when paused; the connect
// pause is then not held) and makes the second through its own pool, with OkHttp's
// retryOnConnectionFailure left on unless `noRetry`. The Outcome keeps each
// exception's class, message (absent/"" when Java's is null) and the whole getCause() chain with
// suppressed exceptions (an HTTP/2 stream reset's error code as `code`). The protocol helpers and
// the JSON parser that reads the configuration are DriverProtocol.java's, shared with the
// java.net.http driver.

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
  static volatile Socket lastSocket;
  static volatile int connects = 0;

  /** A stream reset's HTTP/2 error code is the Outcome's `code`. */
  static String codeOf(Throwable t) {
    if (t instanceof okhttp3.internal.http2.StreamResetException) {
      return String.valueOf(((okhttp3.internal.http2.StreamResetException) t).errorCode);
    }
    return null;
  }

  // ------------------------------------------------------------------------------------------
  // The pause point

  static void hold(boolean pause) {
    if (DriverProtocol.connectedAt == 0) DriverProtocol.connectedAt = System.nanoTime();
    Socket s = lastSocket;
    String local = s == null ? "?" : DriverProtocol.fmtAddress(s.getLocalAddress(), s.getLocalPort());
    String remote = s == null ? "?" : DriverProtocol.fmtAddress(s.getInetAddress(), s.getPort());
    DriverProtocol.emit("{\"event\":\"connected\",\"local\":" + DriverProtocol.str(local) + ",\"remote\":" + DriverProtocol.str(remote) + "}");
    if (!pause) return;
    DriverProtocol.waitGo();
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
          if (DriverProtocol.connectedAt == 0) DriverProtocol.connectedAt = System.nanoTime();
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
    final DriverProtocol.Config cfg = new DriverProtocol.Config(args[args.length - 1]);
    // With reuse the pause is at the idle point, not at connect.
    final boolean holdAtConnect = cfg.pause && cfg.reuse == null;

    DriverProtocol.CODE_OF = OkHttpDriver::codeOf;
    DriverProtocol.startTimeout(cfg.timeoutMs);

    DriverProtocol.emit("{\"event\":\"ready\",\"software\":{\"family\":\"okhttp\",\"version\":" + DriverProtocol.str(okhttp3.internal.Version.userAgent().replaceFirst("^okhttp/", "")) + "}}");
    final boolean secure = cfg.scheme.equals("https") || cfg.scheme.equals("h2");
    final List<String> notes = new ArrayList<>();

    OkHttpClient.Builder builder = new OkHttpClient.Builder()
        .retryOnConnectionFailure(cfg.reuse != null && !Boolean.TRUE.equals(cfg.reuse.get("noRetry")))
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
    if (cfg.proxy != null) {
      String ph = (String) cfg.proxy.get("host");
      int pp = ((Number) cfg.proxy.get("port")).intValue();
      builder.proxy(new Proxy(Proxy.Type.HTTP, new InetSocketAddress(InetAddress.getByName(ph), pp)));
    }
    if (secure && cfg.caFile != null) {
      TrustManagerFactory tmf = DriverProtocol.trustCa(cfg.caFile);
      X509TrustManager tm = null;
      for (TrustManager t : tmf.getTrustManagers()) if (t instanceof X509TrustManager) tm = (X509TrustManager) t;
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, null);
      builder.sslSocketFactory(ctx.getSocketFactory(), tm);
    }
    if (cfg.scheme.equals("h2")) builder.protocols(Arrays.asList(Protocol.HTTP_2, Protocol.HTTP_1_1));
    else builder.protocols(Arrays.asList(Protocol.HTTP_1_1));
    OkHttpClient client = builder.build();

    String authority = cfg.host.contains(":") ? "[" + cfg.host + "]:" + cfg.port : cfg.host + ":" + cfg.port;
    String url = (secure ? "https://" : "http://") + authority + cfg.path;
    Request.Builder rb = new Request.Builder().url(url);
    if (cfg.reuse != null && "POST".equals(cfg.reuse.get("method"))) rb.post(okhttp3.RequestBody.create(okhttp3.MediaType.get("application/x-www-form-urlencoded"), "rstlab=1"));
    else rb.get();
    Request request = rb.build();

    Integer status = null;
    long bytes = 0;
    if (cfg.reuse != null) {
      String first = (secure ? "https://" : "http://") + authority + "/";
      try (Response r1 = client.newCall(new Request.Builder().url(first).get().build()).execute()) {
        ResponseBody b1 = r1.body();
        if (b1 != null) b1.source().readAll(okio.Okio.blackhole());
      } catch (Throwable t) {
        notes.add("first-request");
        DriverProtocol.finish(DriverProtocol.errorOutcome(t, null, null, notes));
      }
      int before = client.connectionPool().connectionCount();
      DriverProtocol.emit("{\"event\":\"idle\"}");
      if (cfg.pause) DriverProtocol.waitGo();
      else if (cfg.reuse.get("idleMs") != null) Thread.sleep(((Number) cfg.reuse.get("idleMs")).longValue());
      notes.add("pooled=" + before);
    }
    final int connectsBefore = connects;
    try (Response response = client.newCall(request).execute()) {
      if (cfg.reuse != null) notes.add("new-connections=" + (connects - connectsBefore));
      status = response.code();
      DriverProtocol.emit("{\"event\":\"response-started\",\"status\":" + status + "}");
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
      DriverProtocol.finish(DriverProtocol.okOutcome(status, bytes, notes));
    } catch (Throwable t) {
      if (cfg.reuse != null && status == null) notes.add("new-connections=" + (connects - connectsBefore));
      DriverProtocol.finish(DriverProtocol.errorOutcome(t, status, status == null ? null : bytes, notes));
    }
  }
}
